// English. The reader error meanings and remedies follow the FAQ's question 15.

export default {
  "site.name": "NHI Card Online Registration",
  skip: "Skip to main content",
  "nav.label": "Main menu",
  "nav.home": "Home",
  "nav.register": "Register",
  "nav.lookup": "Am I registered?",
  "nav.login": "Log in",
  "nav.account": "My registration",
  "nav.logout": "Log out",
  "language.switch": "中文",
  "language.switch.label": "切換為中文",
  "footer.text":
    "This service needs an ordinary chip-card reader, a valid NHI card and the card-reader component running on your computer. Registration is free.",
  optional: " (optional)",
  "error.prefix": "Error: ",

  "home.title": "NHI Card Online Registration",
  "home.intro":
    "Once your NHI card is registered you can use the health passbook and NHI online applications, and the registered card for the Ministry of Finance's online tax services.",
  "home.actions": "I want to…",
  "home.action.register": "Register my NHI card",
  "home.action.lookup": "Check whether I am registered",
  "home.action.login": "Log in",
  "home.action.forgot": "Reset a forgotten registration password",
  "home.needs": "What you need",
  "home.needs.reader": "An ordinary chip-card reader (no special reader needed).",
  "home.needs.card": "A valid NHI card.",
  "home.needs.agent": "The card-reader component, installed and running on this computer.",
  "home.needs.proof":
    "The first time: citizens enter their household number and the township, village and neighbourhood of their household registration; foreign residents enter their chip residence permit's issue date, expiry date and the serial number on its back.",
  "home.codes": "Card-reading error codes",
  "home.codes.intro": "If an error code appears after you insert and read your card:",

  "kind.legend": "I am",
  "kind.citizen": "A citizen",
  "kind.foreigner": "A foreign resident",
  "household.legend": "Household registration",
  "household.no": "Household number",
  "household.no.hint": "As on your household certificate, e.g. A1234567.",
  "household.township": "Township or district",
  "household.township.hint": "As in the household register, e.g. 臺北市中正區.",
  "household.village": "Village",
  "household.village.hint": "E.g. 建國里.",
  "household.neighborhood": "Neighbourhood",
  "household.neighborhood.hint": "The neighbourhood (鄰) number, e.g. 12.",
  "residence.legend": "Chip residence permit",
  "residence.issued": "Issue date",
  "residence.expires": "Expiry date",
  "residence.serial": "Serial number on the back",
  "residence.serial.hint": "The serial number printed on the back of the permit.",
  "password.legend": "Choose a registration password",
  "password.new": "Registration password",
  "password.hint":
    "8 to 64 characters. It may not contain your ID number or be a commonly used password.",
  "password.confirm": "Repeat the registration password",
  "contact.legend": "Contact details",
  "contact.email": "Email address",
  "contact.email.hint": "If you forget your password, the reset email is sent here.",
  "contact.phone": "Phone number",
  "contact.phone.hint": "Mobile (09xxxxxxxx) or landline (e.g. 02-2345-6789).",
  "mail_language.legend": "Language of our emails",

  "busy.reading": "Reading your card; do not remove it…",
  "busy.sending": "Working, please wait…",

  "register.title": "Register your NHI card",
  "register.intro":
    "To protect your personal data and keep anyone else from registering your card, the first registration needs a valid NHI card in your reader plus your household number and the township, village and neighbourhood of your household registration (foreign residents: the chip residence permit's issue date, expiry date and back serial number).",
  "register.read_hint":
    "Insert your NHI card into the reader, then press [Read card and register].",
  "register.submit": "Read card and register",
  "register.done.title": "You are registered",
  "register.done.text":
    "Your NHI card is registered for online services. From now on, log in with the card in your reader and your registration password.",
  "register.done.login": "Go to log in",
  "register.already.login": "Log in instead",

  "lookup.title": "Am I registered?",
  "lookup.intro":
    "Not sure whether you registered? Insert your NHI card into the reader and press [Read].",
  "lookup.submit": "Read",
  "lookup.registered": "You have already applied: this card is registered.",
  "lookup.registered.next": "Go to log in",
  "lookup.deactivated":
    "This card's registration is deactivated: it cannot be used for the health passbook, NHI online applications or tax services. To reactivate it, bring an identity document to an NHIA service centre or liaison office.",
  "lookup.not_registered": "This card is not registered yet.",
  "lookup.not_registered.next": "Register now",

  "login.title": "Log in",
  "login.intro":
    "For your security every login needs both the physical NHI card and your registration password (two factors). Insert your card and enter your password.",
  "login.password": "Registration password",
  "login.submit": "Read card and log in",
  "login.forgot": "Forgot your registration password?",
  "login.register": "Not registered yet? Register",

  "notice.login_required": "Please log in first.",
  "notice.session_expired": "Your session has ended; please log in again.",
  "notice.logged_out": "You are logged out.",
  "notice.logged_in": "You are logged in.",
  "notice.card_updated":
    "You are logged in. Your registration now uses your new card's number; use the new card from now on.",
  "notice.reload":
    "To protect your account, your login is kept in this page only: after a reload or closing the page, log in again with your card.",

  "account.title": "My registration",
  "account.profile": "Your details",
  "account.masked": "Parts are masked with * to protect your personal data.",
  "account.loading": "Loading your details…",
  "profile.kind": "I am",
  "profile.status": "Status",
  "profile.id_no": "ID number",
  "profile.card_no": "NHI card number",
  "profile.email": "Email address",
  "profile.phone": "Phone number",
  "profile.language": "Language of our emails",
  "profile.channel": "How you registered",
  "profile.created": "Registered on",
  "profile.none": "Not set",
  "status.active": "Active",
  "status.deactivated": "Deactivated",
  "channel.online": "Online",
  "channel.counter": "At a counter",
  "channel.employer": "Through the employer",
  "details.title": "Change basic data",
  "details.intro": "Fill in only what you want to change; fields left blank stay as they are.",
  "details.email": "New email address",
  "details.remove_email": "Remove my email address",
  "details.phone": "New phone number",
  "details.remove_phone": "Remove my phone number",
  "details.submit": "Save details",
  "details.saved": "Your details are updated.",
  "details.nothing": "There is nothing to change.",
  "pw.title": "Change registration password",
  "pw.current": "Current registration password",
  "pw.new": "New registration password",
  "pw.confirm": "Repeat the new registration password",
  "pw.submit": "Change password",
  "pw.changed": "Your registration password is changed; you are logged out on every other device.",
  "logout.title": "Log out",
  "logout.text": "On a shared computer, log out and take your card out when you are done.",

  "forgot.title": "Forgot your registration password",
  "forgot.intro": "We will email you a message to reset your registration password.",
  "forgot.mode.legend": "Did you leave an email address when you registered?",
  "forgot.mode.on_file": "Yes: send it to the address in my profile",
  "forgot.mode.none":
    "No: I will enter my household (or residence permit) data and an email address",
  "forgot.on_file.explain":
    "Insert your card and press [Read]: the reset email is sent to the address in your profile.",
  "forgot.none.explain":
    "If you left no email address when you registered, enter your household data (foreign residents: the chip residence permit's issue date, expiry date and back serial number) and an email address. Once they check out, the reset email is sent to that address.",
  "forgot.email": "Email address to send the reset email to",
  "forgot.submit": "Read card and send reset email",
  "forgot.accepted.title": "Check your email",
  "forgot.accepted":
    "If this card has an active registration with an email address we can use, a reset link is on its way. The link works once and for a limited time.",

  "reset.title": "Reset your registration password",
  "reset.intro": "Choose a new registration password.",
  "reset.no_token": "Open this page with the link in the password reset email.",
  "reset.request_new": "Request a new reset email",
  "reset.submit": "Set new password",
  "reset.done.title": "Your password is reset",
  "reset.done.text":
    "Every session was logged out. Log in with your card and the new registration password.",

  "notfound.title": "Page not found",
  "notfound.text": "The page you asked for does not exist.",
  "notfound.home": "Go to the home page",

  "v.summary": "Please fix the following:",
  "v.required": "Enter the {label}.",
  "v.choose": "Choose: {label}.",
  "v.too_long": "The {label} can be at most {max} characters.",
  "v.password_length": "The registration password must be 8 to 64 characters.",
  "v.password_mismatch": "The two passwords do not match.",
  "v.email": "Enter a valid email address, like name@example.com.",
  "v.phone": "Enter a mobile (09xxxxxxxx) or landline (e.g. 02-2345-6789) number.",
  "v.date": "Enter the {label} (year-month-day).",
  "v.expiry_before_issue": "The expiry date must be after the issue date.",

  "reader.titled": "Error code {code}: {meaning}",
  "reader.7004": "No card is inserted.",
  "reader.read_failure": "The card could not be read, or the read was unstable.",
  "reader.4061": "The data could not be sent over the network.",
  "reader.unknown": "The card-reader component reported an error.",
  "reader.remedies": "What to do:",
  "remedy.7004.1": "Insert your NHI card into the reader and read it again.",
  "remedy.read.1":
    "The card may not sit well in the reader's slot: re-insert the card and read it again.",
  "remedy.read.2":
    "Connect the reader to a USB port at the back of the computer; front USB ports are less stable.",
  "remedy.read.3":
    "Check that the reader's driver is installed and that its installation completed.",
  "remedy.read.4": "Try another card reader.",
  "remedy.read.5": "Try another NHI card.",
  "remedy.4061.1":
    "Make sure the card-reader component is installed and running on this computer, and that the network connection works.",
  "remedy.4061.2": "A firewall or proxy server may block the data; ask your IT staff to check.",

  "api.invalid_request": "Some of the data is not valid; check what you entered.",
  "api.internal":
    "Something went wrong on our side; please try again later. If you need help, quote this reference: {id}",
  "api.internal.plain": "Something went wrong on our side; please try again later.",
  "api.unavailable": "The service is temporarily unavailable; please try again shortly.",
  "api.nonce_invalid": "The card check expired or was already used; read your card again.",
  "api.card_unknown": "This card is not recognised; make sure you use a valid NHI card.",
  "api.card_signature_invalid": "Your card could not be verified; re-insert it and read it again.",
  "api.card_data_mismatch":
    "The card's data does not match our card records; use another valid card or contact an NHIA service centre.",
  "api.card_replaced": "This card has been replaced by a newer one; use your newest NHI card.",
  "api.proof_kind_mismatch":
    "This does not match your card: citizens enter household data, foreign residents residence permit data.",
  "api.household_mismatch":
    "The household number or township, village and neighbourhood do not match the household register. Check them and try again.",
  "api.residence_mismatch":
    "The residence permit's issue date, expiry date or back serial number do not match. Check them and try again.",
  "api.verification_locked": "Too many failed checks; please try again later.",
  "api.verification_locked.wait": "Too many failed checks; please try again in {minutes} minutes.",
  "api.already_registered": "You have already applied: this card is registered.",
  "api.account_deactivated":
    "This registration is deactivated. To reactivate it, bring an identity document to an NHIA service centre or liaison office.",
  "api.weak_password": "The registration password does not meet the rules.",
  "api.weak_password.too_short": "The registration password must have at least 8 characters.",
  "api.weak_password.too_long": "The registration password can have at most 64 characters.",
  "api.weak_password.common": "This password is too common and easy to guess; choose another.",
  "api.weak_password.contains_id_no": "The registration password may not contain your ID number.",
  "api.invalid_credentials": "The card or the registration password is wrong.",
  "api.account_locked":
    "Too many wrong passwords: the account is locked for a while. Try again later.",
  "api.account_locked.wait":
    "Too many wrong passwords: the account is locked. Try again in {minutes} minutes.",
  "api.account_locked.password_reset_required":
    "Too many wrong passwords: the account is locked. Reset your password with “Forgot your registration password”.",
  "api.unauthorized": "Please log in; your session is missing, has ended or was logged out.",
  "api.insufficient_scope":
    "This sign-in does not allow this. Log in with your NHI card and registration password.",
  "api.not_found": "What you asked for was not found.",
  "api.reset_token_invalid":
    "This reset link is invalid, already used or expired; request a new reset email.",
  "api.method_not_allowed": "This action is not allowed.",
  "api.payload_too_large": "The data sent is too large.",
  "api.unknown": "Something went wrong ({code}); please try again later.",
};
