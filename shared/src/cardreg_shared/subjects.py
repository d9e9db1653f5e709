"""Every subject on the bus with its request and reply models: the single source of truth.

Requests: `<owner>.<aggregate>.<action>`, served by the owner service's queue group.
Events: `evt.<owner>.<aggregate>.<past-tense>` on JetStream streams listed in STREAMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel

from .models import events, identity, mail, oidc, registry
from .models.common import Empty

Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel)


@dataclass(frozen=True)
class Subject(Generic[Req, Rep]):
    name: str
    request: type[Req]
    reply: type[Rep]
    summary: str

    @property
    def owner(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class EventSubject:
    name: str
    payload: type[BaseModel]
    stream: str
    summary: str

    @property
    def owner(self) -> str:
        return self.name.split(".")[1]


@dataclass(frozen=True)
class MailSubject:
    """A mail request: written by the registry's outbox, consumed by the mailer."""

    name: str
    payload: type[BaseModel]
    summary: str
    stream: str = "MAIL"
    publisher: str = "registry"
    consumer: str = "mailer"


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    summary: str
    work_queue: bool = False  # a message leaves the stream once acknowledged
    max_age: timedelta | None = None  # older messages are dropped; None keeps them
    # Copies on as many servers: 1 on one node, 3 on a cluster (deployment, not contract:
    # services set it from CARDREG_JETSTREAM_REPLICAS with `bus.replicated`).
    replicas: int = 1

    def takes(self, subject: str) -> bool:
        """Does a subject of this stream match `subject` (`>` matches the rest)?"""
        return any(_matches(pattern, subject) for pattern in self.subjects)


def _matches(pattern: str, subject: str) -> bool:
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or token not in ("*", given[index]):
            return False
    return len(given) == len(wanted)


CARD_VERIFY = Subject(
    "identity.card.verify",
    identity.CardVerifyRequest,
    identity.CardVerifyReply,
    "Check a card read: signature over the nonce against the roster key, fields as in the "
    "roster, and that the card is the holder's newest.",
)
HOUSEHOLD_VERIFY = Subject(
    "identity.household.verify",
    identity.HouseholdVerifyRequest,
    identity.ProofVerifyReply,
    "Check a citizen's household data; failed guesses are counted per person.",
)
RESIDENCE_VERIFY = Subject(
    "identity.residence.verify",
    identity.ResidenceVerifyRequest,
    identity.ProofVerifyReply,
    "Check a foreign resident's residence-permit data; failed guesses are counted per person.",
)
PERSON_FIND = Subject(
    "identity.person.find",
    identity.PersonFindRequest,
    identity.PersonFindReply,
    "The person with this ID number (a counter's search, an employer's registration); "
    "`not_found` otherwise.",
)
DOCUMENT_VERIFY = Subject(
    "identity.document.verify",
    identity.DocumentVerifyRequest,
    identity.ProofVerifyReply,
    "Does this document (type and number) belong to the person? `document_mismatch` if not; "
    "failed guesses are counted with the household and residence ones.",
)
INSURANCE_VERIFY = Subject(
    "identity.insurance.verify",
    identity.InsuranceVerifyRequest,
    identity.ProofVerifyReply,
    "Is the person insured through this unit (employer)? `insurance_mismatch` if not.",
)
PERSON_CLAIMS = Subject(
    "identity.person.claims",
    identity.PersonClaimsRequest,
    identity.PersonClaims,
    "The person's name and ID number, for the claims of an OpenID Connect sign-in (the "
    "registry keeps neither in clear); `not_found` for an unknown person.",
)

REGISTRATION_LOOKUP = Subject(
    "registry.registration.lookup",
    registry.LookupRequest,
    registry.LookupReply,
    "Has the holder of this card registered? (FAQ 12)",
)
ACCOUNT_REGISTER = Subject(
    "registry.account.register",
    registry.RegisterRequest,
    registry.RegisterReply,
    "Register the card holder after identity verified the card and the household or "
    "residence data.",
)
SESSION_CREATE = Subject(
    "registry.session.create",
    registry.SessionCreateRequest,
    registry.SessionCreateReply,
    "Log in with card + password; a newer card of the same person updates the bound card.",
)
SESSION_REVOKE = Subject(
    "registry.session.revoke",
    registry.TokenRequest,
    Empty,
    "Log out: revoke the session behind an access token.",
)
ACCOUNT_GET = Subject(
    "registry.account.get",
    registry.TokenRequest,
    registry.AccountProfile,
    "The signed-in account's profile, identifiers masked.",
)
JWKS_GET = Subject(
    "registry.jwks.get",
    Empty,
    registry.JwksReply,
    "Public keys that verify access tokens (served at /.well-known/jwks.json).",
)
OIDC_AUTHORIZE = Subject(
    "registry.oidc.authorize",
    oidc.OidcAuthorizeRequest,
    oidc.OidcAuthorizeReply,
    "OpenID Connect authorization after the portal login: a code for the client (PKCE S256, "
    "nonce), the consent to ask for, or an error.",
)
OIDC_ENDPOINT = Subject(
    "registry.oidc.endpoint",
    oidc.OidcEndpointRequest,
    oidc.OidcEndpointReply,
    "OpenID Connect token, revocation, introspection and userinfo requests, answered as the "
    "HTTP response the gateway sends.",
)
OIDC_CONSENTS_LIST = Subject(
    "registry.oidc.consents.list",
    registry.TokenRequest,
    oidc.ConsentList,
    "The signed-in account's consents to relying services (needs a card login: `account`).",
)
OIDC_CONSENT_WITHDRAW = Subject(
    "registry.oidc.consents.withdraw",
    oidc.ConsentWithdrawRequest,
    Empty,
    "Withdraw the consent to one relying service; its sign-ins of the account end at once.",
)
PASSWORD_RESET_REQUEST = Subject(
    "registry.password_reset.request",
    registry.PasswordResetRequest,
    Empty,
    "FAQ 7: after the card check, the same empty reply whatever happened; a reset link is "
    "mailed when the account exists, is active, has or proves an address, and is not rate-limited.",
)
PASSWORD_RESET_COMPLETE = Subject(
    "registry.password_reset.complete",
    registry.PasswordResetComplete,
    Empty,
    "Set a new password with a reset token: single use, 30 minutes; revokes every session.",
)
PASSWORD_CHANGE = Subject(
    "registry.password.change",
    registry.PasswordChangeRequest,
    Empty,
    "FAQ 8: change the password with the current one; revokes the other sessions.",
)
ACCOUNT_UPDATE = Subject(
    "registry.account.update",
    registry.AccountUpdateRequest,
    registry.AccountProfile,
    "FAQ 9: change email, phone or mail language; a new email notifies the old address.",
)
DEVICE_BINDING_START = Subject(
    "registry.device_binding.start",
    registry.TokenRequest,
    registry.BindingStartReply,
    "FAQ 10: a single-use, 5-minute link that binds a phone (needs scope `account`).",
)
DEVICE_BINDING_OPTIONS = Subject(
    "registry.device_binding.options",
    registry.BindingRequest,
    registry.PasskeyOptions,
    "WebAuthn creation options for a binding link (user verification required).",
)
DEVICE_BINDING_COMPLETE = Subject(
    "registry.device_binding.complete",
    registry.DeviceBindRequest,
    registry.DeviceBindReply,
    "Verify the new passkey and bind the device under a name; uses up the link; at most 5.",
)
DEVICE_LIST = Subject(
    "registry.device.list",
    registry.TokenRequest,
    registry.DeviceList,
    "The account's bound devices: name, created, last used (needs scope `account`).",
)
DEVICE_REMOVE = Subject(
    "registry.device.remove",
    registry.DeviceRemoveRequest,
    Empty,
    "Remove a bound device and end its sessions (needs scope `account`).",
)
DEVICE_SESSION_OPTIONS = Subject(
    "registry.device_session.options",
    registry.DeviceLoginOptionsRequest,
    registry.PasskeyOptions,
    "WebAuthn request options for a device login; the same shape for an unknown ID number.",
)
DEVICE_SESSION_CREATE = Subject(
    "registry.device_session.create",
    registry.DeviceSessionCreateRequest,
    registry.DeviceSessionCreateReply,
    "Log in on a phone: ID number + password + passkey assertion; scopes `passbook counter`.",
)
OPERATOR_SESSION_CREATE = Subject(
    "registry.operator_session.create",
    registry.OperatorSessionCreateRequest,
    registry.OperatorSessionCreateReply,
    "An operator logs in with username, password and a TOTP code (each code once); the token "
    "carries `operator:<role>` and the operator's opaque id.",
)
OPERATOR_PASSWORD_CHANGE = Subject(
    "registry.operator_password.change",
    registry.OperatorPasswordChangeRequest,
    Empty,
    "An operator changes their password (the initial one first); revokes their other sessions.",
)
PERSON_SEARCH = Subject(
    "registry.counter.search",
    registry.PersonSearchRequest,
    registry.PersonSearchReply,
    "A counter clerk or an employer looks a person up by ID number (audited); masked.",
)
COUNTER_REGISTER = Subject(
    "registry.counter.register",
    registry.CounterRegistrationRequest,
    registry.OperatorRegistrationReply,
    "FAQ 5: a counter registers the person present, after seeing an original document; the "
    "account is pending until the person finishes the setup with their card.",
)
EMPLOYER_REGISTER = Subject(
    "registry.employer.register",
    registry.EmployerRegistrationRequest,
    registry.OperatorRegistrationReply,
    "FAQ 4: an employer registers a person insured through its own unit, with their consent "
    "and an email, to which the setup link is mailed.",
)
SETUP_ISSUE = Subject(
    "registry.counter.setup_issue",
    registry.SetupIssueRequest,
    registry.Setup,
    "A counter issues a new setup code for a pending account; the old one is void.",
)
DEACTIVATE = Subject(
    "registry.counter.deactivate",
    registry.DeactivationRequest,
    registry.AccountStateReply,
    "FAQ 13: a counter deactivates a registration (or blocks a person without one) with a "
    "reason; every session ends at once.",
)
REACTIVATE = Subject(
    "registry.counter.reactivate",
    registry.ReactivationRequest,
    registry.AccountStateReply,
    "A counter reactivates a registration (or lifts the block); old sessions stay revoked.",
)
SETUP_COMPLETE = Subject(
    "registry.setup.complete",
    registry.SetupCompleteRequest,
    registry.RegisterReply,
    "The person finishes a pending registration: the setup code, their own card, a password.",
)
ACCOUNT_ACTIVITY = Subject(
    "registry.account.activity",
    registry.ActivityRequest,
    registry.ActivityReply,
    "The holder's own events, newest first, paged: logins, changes, counter and employer "
    "actions (where, never who).",
)
ACCOUNT_EVENTS_GET = Subject(
    "registry.counter.account_events",
    registry.AccountEventsRequest,
    registry.AccountEventsReply,
    "A counter clerk or an admin reads an account's audit events, newest first, paged.",
)
OPERATOR_ADD = Subject(
    "registry.operator.add",
    registry.OperatorAddRequest,
    registry.OperatorEnrolment,
    "An admin enrols an operator: the initial password and the otpauth URI, shown once.",
)
OPERATOR_LIST = Subject(
    "registry.operator.list",
    registry.OperatorListRequest,
    registry.OperatorListReply,
    "An admin lists the operators.",
)
OPERATOR_DISABLE = Subject(
    "registry.operator.disable",
    registry.OperatorDisableRequest,
    registry.OperatorInfo,
    "An admin disables an operator; its sessions end at once.",
)
OPERATOR_RESET = Subject(
    "registry.operator.reset",
    registry.OperatorResetRequest,
    registry.OperatorEnrolment,
    "An admin re-enrols an operator who lost the authenticator or the password: a new initial "
    "password and otpauth URI, shown once; unlocked; its sessions end at once.",
)
MAILER_STATS = Subject(
    "mailer.stats.get",
    Empty,
    mail.MailerStatsReply,
    "The mailer's counters: sent, duplicates skipped, retries, dead-lettered.",
)

READER_EVENTS = Stream("READER_EVENTS", ("evt.reader.>",), "Card reads seen by the gateway.")

MAIL_STREAM = Stream(
    "MAIL",
    ("mail.>",),
    "Mail requests from the registry's outbox; work queue for the mailer.",
    work_queue=True,
)
MAIL_DEAD_LETTERS = Stream(
    "MAIL_DEAD", ("deadletter.mail.>",), "Mail requests the mailer gave up on, for operators."
)
REGISTRY_EVENTS = Stream(
    "REGISTRY_EVENTS",
    ("evt.registry.>",),
    "Account events from the registry's outbox: the audit trail, no personal data. Kept 400 "
    "days by default (CARDREG_REGISTRY_EVENTS_RETENTION_DAYS).",
    max_age=timedelta(days=400),
)

MAIL_PASSWORD_RESET = MailSubject(
    "mail.password_reset", mail.PasswordResetMail, "A password-reset link (FAQ 7)."
)
MAIL_PASSWORD_CHANGED = MailSubject(
    "mail.password_changed", mail.PasswordChangedMail, "Notice: the password was changed or reset."
)
MAIL_EMAIL_CHANGED = MailSubject(
    "mail.email_changed", mail.EmailChangedMail, "Notice to the old address: the email changed."
)
MAIL_SETUP = MailSubject(
    "mail.setup", mail.SetupMail, "The link to finish a counter or employer registration."
)
MAIL_REACTIVATED = MailSubject(
    "mail.reactivated", mail.ReactivatedMail, "Notice: a counter reactivated the registration."
)

CARD_READ = EventSubject(
    "evt.reader.card.read",
    events.CardReadEvent,
    READER_EVENTS.name,
    "A card read submitted to the gateway, with its outcome.",
)

_ACCOUNT_EVENT_SUMMARIES: dict[str, str] = {
    "registered": "An account was opened online (card + household or residence proof).",
    "setup_completed": "A pending account got its card and password: it is active.",
    "logged_in": "A login succeeded.",
    "login_failed": "A login (or a password re-check) was refused; outcome says why.",
    "locked": "Wrong passwords locked the account (timed, or until a password reset).",
    "card_rebound": "A login with the holder's newer card bound that card to the account.",
    "password_changed": "The holder changed the password (other sessions were revoked).",
    "password_reset": "A reset link set a new password (every session was revoked).",
    "email_changed": "The account's email was set, changed or removed.",
    "phone_changed": "The account's phone was set, changed or removed.",
    "device_bound": "A phone was bound with a passkey (FAQ 10).",
    "device_removed": "A bound phone was removed (its sessions were ended).",
    "session_revoked": "A session was ended (logout).",
    "deactivated": "The registration was deactivated at a counter (FAQ 13).",
    "reactivated": "A deactivated registration was reactivated at a counter.",
    "consent_recorded": "The holder gave (outcome granted) or withdrew (withdrawn) a relying "
    "service's consent, or an employer recorded the person's consent to its registration.",
    "setup_issued": "A counter or employer issued a setup code (the older one is void).",
    "service_signed_in": "The holder signed in at a relying service through OpenID Connect "
    "(`client_id` names it; method `card+password`, or `device+password` on a phone).",
}
_OPERATOR_EVENT_SUMMARIES: dict[str, str] = {
    "added": "An operator was enrolled (from the command line or by an admin).",
    "logged_in": "An operator logged in (password + TOTP).",
    "login_failed": "An operator's login was refused; outcome says why.",
    "locked": "Wrong passwords or codes locked the operator (timed, or for good).",
    "password_changed": "An operator changed their password.",
    "disabled": "An operator was disabled; their sessions were revoked.",
    "person_searched": "An operator searched a person by ID number (the account, if any).",
    "re_enrolled": "An operator got a new initial password and TOTP secret; sessions revoked.",
}
OPERATOR_EVENTS: dict[str, EventSubject] = {
    kind: EventSubject(
        f"evt.registry.operator.{kind}",
        events.OperatorEvent,
        REGISTRY_EVENTS.name,
        _OPERATOR_EVENT_SUMMARIES[kind],
    )
    for kind in get_args(events.OperatorEventType)
}
ACCOUNT_EVENTS: dict[str, EventSubject] = {
    kind: EventSubject(
        f"evt.registry.account.{kind}",
        events.AccountEvent,
        REGISTRY_EVENTS.name,
        _ACCOUNT_EVENT_SUMMARIES[kind],
    )
    for kind in get_args(events.AccountEventType)
}

REQUESTS: tuple[Subject[Any, Any], ...] = (
    CARD_VERIFY,
    HOUSEHOLD_VERIFY,
    RESIDENCE_VERIFY,
    PERSON_FIND,
    DOCUMENT_VERIFY,
    INSURANCE_VERIFY,
    PERSON_CLAIMS,
    REGISTRATION_LOOKUP,
    ACCOUNT_REGISTER,
    SESSION_CREATE,
    SESSION_REVOKE,
    ACCOUNT_GET,
    JWKS_GET,
    OIDC_AUTHORIZE,
    OIDC_ENDPOINT,
    OIDC_CONSENTS_LIST,
    OIDC_CONSENT_WITHDRAW,
    PASSWORD_RESET_REQUEST,
    PASSWORD_RESET_COMPLETE,
    PASSWORD_CHANGE,
    ACCOUNT_UPDATE,
    DEVICE_BINDING_START,
    DEVICE_BINDING_OPTIONS,
    DEVICE_BINDING_COMPLETE,
    DEVICE_LIST,
    DEVICE_REMOVE,
    DEVICE_SESSION_OPTIONS,
    DEVICE_SESSION_CREATE,
    OPERATOR_SESSION_CREATE,
    OPERATOR_PASSWORD_CHANGE,
    PERSON_SEARCH,
    COUNTER_REGISTER,
    EMPLOYER_REGISTER,
    SETUP_ISSUE,
    DEACTIVATE,
    REACTIVATE,
    SETUP_COMPLETE,
    ACCOUNT_ACTIVITY,
    ACCOUNT_EVENTS_GET,
    OPERATOR_ADD,
    OPERATOR_LIST,
    OPERATOR_DISABLE,
    OPERATOR_RESET,
    MAILER_STATS,
)
EVENTS: tuple[EventSubject, ...] = (
    CARD_READ,
    *ACCOUNT_EVENTS.values(),
    *OPERATOR_EVENTS.values(),
)
MAIL_REQUESTS: tuple[MailSubject, ...] = (
    MAIL_PASSWORD_RESET,
    MAIL_PASSWORD_CHANGED,
    MAIL_EMAIL_CHANGED,
    MAIL_SETUP,
    MAIL_REACTIVATED,
)
STREAMS: tuple[Stream, ...] = (READER_EVENTS, MAIL_STREAM, MAIL_DEAD_LETTERS, REGISTRY_EVENTS)


def stream_of(subject: str) -> Stream:
    """The stream that stores messages published on `subject`."""
    for stream in STREAMS:
        if stream.takes(subject):
            return stream
    raise LookupError(f"no stream takes {subject}")


def dead_letter_subject(mail_subject: str) -> str:
    """Where the mailer moves a request it gave up on: `deadletter.mail.<purpose>`."""
    return f"deadletter.{mail_subject}"


def owned_by(owner: str) -> tuple[Subject[Any, Any], ...]:
    return tuple(s for s in REQUESTS if s.owner == owner)
