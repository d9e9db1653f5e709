"""registry.*: registration, lookup, sessions, account profile, signing keys."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints

from .common import (
    AccountStatus,
    CardRead,
    Channel,
    Household,
    IdNo,
    Language,
    Model,
    Password,
    PersonKind,
    ProofChoice,
    Residence,
)

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

DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
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
