"""registry.*: registration, lookup, sessions, account profile, signing keys."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints

from .common import (
    AccountStatus,
    CardRead,
    Channel,
    Document,
    Household,
    IdNo,
    Language,
    Model,
    Password,
    PersonKind,
    ProofChoice,
    Residence,
    UnitId,
)
from .events import AccountEvent

Email = Annotated[str, StringConstraints(max_length=254)]
Phone = Annotated[str, StringConstraints(max_length=32)]
AccessToken = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class LookupRequest(Model):
    card: CardRead


class LookupReply(Model):
    registered: bool
    status: AccountStatus | None


class RegisterRequest(ProofChoice):
    """Exactly one proof: household (citizens) or residence (foreign residents)."""

    card: CardRead
    household: Household | None = None
    residence: Residence | None = None
    password: Password
    email: Email | None = None
    phone: Phone | None = None
    channel: Channel = "online"
    language: Language = "zh-TW"  # the account's mail language


class RegisterReply(Model):
    account_id: str
    status: AccountStatus


class SessionCreateRequest(Model):
    card: CardRead
    password: Password


class SessionCreateReply(Model):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    card_updated: bool


class TokenRequest(Model):
    access_token: AccessToken


class AccountProfile(Model):
    """What the account owner sees: identifiers masked."""

    account_id: str
    kind: PersonKind
    status: AccountStatus
    channel: Channel
    id_no: str = Field(description="masked, e.g. A12*****89")
    card_no: str = Field(description="masked bound card number")
    email: str | None = Field(description="masked")
    phone: str | None = Field(description="masked")
    language: Language = "zh-TW"
    created_at: datetime
    updated_at: datetime


class Jwk(Model):
    """A public signing key: Ed25519 (`OKP`, `crv`, `x`) or RSA (`n`, `e`)."""

    kty: Literal["OKP", "RSA"]
    kid: str
    use: Literal["sig"] = "sig"
    alg: Literal["EdDSA", "RS256"] = "EdDSA"
    crv: Literal["Ed25519"] | None = None
    x: str | None = None
    n: str | None = None
    e: str | None = None


class JwksReply(Model):
    keys: list[Jwk]


class PasswordResetRequest(ProofChoice):
    """FAQ 7. With an email on file the card alone suffices; without one, the household
    (or residence-permit) data and the address to send the link to come along."""

    proofs_required: ClassVar[int] = 0

    card: CardRead
    household: Household | None = None
    residence: Residence | None = None
    email: Email | None = None


class PasswordResetComplete(Model):
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class PasswordChangeRequest(Model):
    access_token: AccessToken
    current_password: Password
    new_password: Password


class AccountUpdateRequest(Model):
    """FAQ 9. A field left out stays as it is; an empty string removes it."""

    access_token: AccessToken
    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None


# Mobile devices (FAQ 10): a phone bound with a passkey, then device + password logins.

# A device's name: no control characters and at least one character that is not a space, with
# both classes spelled out, so that the schema's pattern (ECMA-262) and Python agree on every
# character; the spaces around it are trimmed, never leaving it empty.
_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f]"
_NAME_SOLID = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
DeviceName = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=64, pattern=f"^{_NAME_CHAR}*{_NAME_SOLID}{_NAME_CHAR}*$"
    ),
    AfterValidator(str.strip),
]
BindingSecret = Annotated[
    str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]
DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

CREDENTIAL_JSON_LIMIT = 16384  # bytes of a passkey's JSON (attestation objects included)


def _bounded_credential(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > CREDENTIAL_JSON_LIMIT:
        raise ValueError(f"the credential is larger than {CREDENTIAL_JSON_LIMIT} bytes")
    return value


# A PublicKeyCredential as the browser's `credential.toJSON()` gives it; py_webauthn parses it.
PasskeyCredential = Annotated[dict[str, Any], AfterValidator(_bounded_credential)]


class BindingStartReply(Model):
    binding_url: str = Field(description="`{public base}/m/#binding=…`: single use, 5 minutes.")
    expires_in: int


class BindingRequest(Model):
    binding: BindingSecret


class PasskeyOptions(Model):
    """WebAuthn options as JSON, for `PublicKeyCredential.parse{Creation,Request}OptionsFromJSON`."""

    options: dict[str, Any]


class DeviceBindRequest(Model):
    binding: BindingSecret
    name: DeviceName
    credential: PasskeyCredential


class DeviceBindReply(Model):
    device_id: str
    name: str


class DeviceSummary(Model):
    device_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class DeviceList(Model):
    devices: list[DeviceSummary]


class DeviceRemoveRequest(Model):
    access_token: AccessToken
    device_id: DeviceId


class DeviceLoginOptionsRequest(Model):
    id_no: IdNo


class DeviceSessionCreateRequest(Model):
    id_no: IdNo
    password: Password
    credential: PasskeyCredential


class DeviceSessionCreateReply(Model):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


# Operators (DESIGN "Counters and employers"): principals of their own, never accounts.

OperatorRole = Literal["counter", "employer", "admin"]
OperatorStatus = Literal["active", "disabled"]
Username = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
]
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class OperatorSessionCreateRequest(Model):
    """An operator's login: username, password and the current TOTP code (RFC 6238)."""

    username: Username
    password: Password
    totp: TotpCode


class OperatorSessionCreateReply(Model):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    role: OperatorRole
    password_change_required: bool = Field(
        description="The initial password from the enrolment: change it before any other work."
    )


class OperatorPasswordChangeRequest(Model):
    access_token: AccessToken
    current_password: Password
    new_password: Password


# The counter console's work (DESIGN "Counters and employers"), each with the operator's token.

PersonRef = Annotated[str, StringConstraints(min_length=1, max_length=512)]
AccountId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SetupCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DeactivationReason = Literal[
    "holder_request", "deceased", "card_misuse", "identity_fraud", "left_the_country", "other"
]


class PersonSearchRequest(Model):
    access_token: AccessToken
    id_no: IdNo


class AccountSummary(Model):
    account_id: str
    status: AccountStatus
    channel: Channel
    created_at: datetime


class PersonSearchReply(Model):
    """Masked: the clerk already has the person and their document in front of them."""

    person_ref: str = Field(description="Opaque: names the person in the calls that follow.")
    kind: PersonKind
    under_14: bool
    account: AccountSummary | None


class Consent(Model):
    """The person's consent to an employer's registration: the employer's reference for it and
    the day it was given."""

    reference: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    given_on: date


class CounterRegistrationRequest(Model):
    """At a counter: the person in front of the clerk, the original document the clerk saw."""

    access_token: AccessToken
    person_ref: PersonRef
    document: Document
    email: Email | None = None
    phone: Phone | None = None
    language: Language = "zh-TW"


class EmployerRegistrationRequest(Model):
    """By an employer, for a person insured through its own unit, with their consent."""

    access_token: AccessToken
    id_no: IdNo
    consent: Consent
    email: Email
    language: Language = "zh-TW"


class Setup(Model):
    code: str = Field(description="Single use, shown once; finish with the person's own card.")
    expires_at: datetime


class OperatorRegistrationReply(Model):
    account_id: str
    status: AccountStatus
    setup: Setup


class SetupIssueRequest(Model):
    access_token: AccessToken
    account_id: AccountId


class Deactivation(Model):
    code: DeactivationReason
    text: Annotated[str, StringConstraints(max_length=500)] = Field(
        "", description="Free text for the record; kept in the registry, never in an event."
    )


class DeactivationRequest(Model):
    access_token: AccessToken
    person_ref: PersonRef
    document: Document
    reason: Deactivation


class ReactivationRequest(Model):
    access_token: AccessToken
    person_ref: PersonRef
    document: Document


class AccountStateReply(Model):
    account_id: str | None
    status: AccountStatus | None = Field(description="null: no account (nor a block) any more")


class SetupCompleteRequest(Model):
    """A person finishes a counter or employer registration with their own card."""

    code: SetupCode
    card: CardRead
    password: Password


# The holder's own activity (DESIGN "The holder's own activity"), and an account's audit
# events for a counter.

Cursor = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ActivityRequest(Model):
    access_token: AccessToken
    before: Cursor | None = None
    limit: int = Field(20, ge=1, le=100)


class ActivityEntry(Model):
    """One thing that happened to the holder's account: when, what, where it came in (a
    counter or an employer, never who), and how the actor proved who they were."""

    at: datetime
    type: str
    channel: str
    method: str | None
    outcome: str
    client_id: str | None = Field(
        None, description="The relying service, for sign-ins and consents through OpenID Connect."
    )


class ActivityReply(Model):
    events: list[ActivityEntry]
    next: str | None = Field(description="Pass as `before` for the older events; null: no more.")


class AccountEventsRequest(Model):
    access_token: AccessToken
    account_id: AccountId
    before: Cursor | None = None
    limit: int = Field(50, ge=1, le=200)


class AccountEventsReply(Model):
    events: list[AccountEvent]
    next: str | None


# Admins manage operators through the operator API too (the first admin comes from the CLI).


class OperatorAddRequest(Model):
    access_token: AccessToken
    username: Username
    role: OperatorRole
    unit_id: UnitId | None = None


class OperatorEnrolment(Model):
    """Shown once: the initial password (to change at first login) and the TOTP URI."""

    operator_id: str
    username: str
    role: OperatorRole
    unit_id: str | None
    password: str
    otpauth_uri: str


class OperatorListRequest(Model):
    access_token: AccessToken


class OperatorInfo(Model):
    operator_id: str
    username: str
    role: OperatorRole
    unit_id: str | None
    status: OperatorStatus
    created_at: datetime


class OperatorListReply(Model):
    operators: list[OperatorInfo]


class OperatorDisableRequest(Model):
    access_token: AccessToken
    username: Username


class OperatorResetRequest(Model):
    access_token: AccessToken
    username: Username
