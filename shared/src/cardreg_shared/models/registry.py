"""registry.*: registration, lookup, sessions, account profile, signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from .common import (
    AccountStatus,
    CardRead,
    Channel,
    Household,
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
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    use: Literal["sig"] = "sig"
    alg: Literal["EdDSA"] = "EdDSA"


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
