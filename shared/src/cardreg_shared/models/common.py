"""Building blocks shared by several subjects: card reads, household and residence proofs."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    model_validator,
)

from ..errors import ErrorCode, ServiceFailure


class Model(BaseModel):
    """Strict by default: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def b64url_decode(text: str) -> bytes:
    """Decode base64url without padding; ValueError on anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _fixed_bytes(size: int) -> AfterValidator:
    def check(text: str) -> str:
        if len(b64url_decode(text)) != size:
            raise ValueError(f"must encode exactly {size} bytes")
        return text

    return AfterValidator(check)


# base64url without padding of exactly 32 (64) bytes: 43 (86) characters, the last one holding
# only the bits left over, the rest zero — the one spelling every encoder produces. The
# pattern says it all in the schemas; the decoder checks it again.
NONCE_PATTERN = r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"
SIGNATURE_PATTERN = r"^[A-Za-z0-9_-]{85}[AQgw]$"
Nonce = Annotated[
    str,
    StringConstraints(min_length=43, max_length=43, pattern=NONCE_PATTERN),
    _fixed_bytes(32),
    Field(description="32 bytes, base64url without padding (43 characters)."),
]
Signature = Annotated[
    str,
    StringConstraints(min_length=86, max_length=86, pattern=SIGNATURE_PATTERN),
    _fixed_bytes(64),
    Field(description="An Ed25519 signature: 64 bytes, base64url without padding (86 characters)."),
]

CardNo = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
# Citizens: letter + 1/2 + 8 digits. Foreign residents: letter + 8/9 + 8 digits (2021 format)
# or two letters + 8 digits (older ARC numbers). Check digits are identity's business.
IdNo = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9][0-9]{8}$")]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Sex = Literal["M", "F"]
PersonKind = Literal["citizen", "foreigner"]
# pending: opened at a counter or by an employer, no password yet (DESIGN's account lifecycle).
AccountStatus = Literal["pending", "active", "deactivated"]
Channel = Literal["online", "counter", "employer"]
# The languages the service speaks: the portal's and the account's (its mail is written in it).
# zh-TW unless the person chose another; vi, id and th for the foreign residents it mostly
# serves. Every text a person reads exists in each (`cardreg catalogues --check`).
Language = Literal["zh-TW", "en", "vi", "id", "th"]

# The documents a clerk may see at a counter (FAQ 5): the ID card (its number is the ID
# number), the household register for under-14s without an ID card (the household number),
# an ROC passport, a driving licence, and a foreign resident's residence permit (its number).
DocumentType = Literal[
    "national_id", "household_register", "passport", "driving_licence", "residence_permit"
]
DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=20)]
# An insured unit (投保單位): the employer an `employer` operator acts for.
UnitId = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]


class Document(Model):
    type: DocumentType
    number: DocumentNumber


ShortText = Annotated[str, StringConstraints(min_length=1, max_length=32)]

# A password crosses the bus in clear (inside the cluster) but never shows in a repr or log.
Password = Annotated[
    SecretStr,
    Field(max_length=1024),
    PlainSerializer(lambda s: s.get_secret_value(), return_type=str, when_used="json"),
]


class CardFields(Model):
    """What any NHI card's profile gives without a PIN."""

    card_no: CardNo
    id_no: IdNo
    name: PersonName
    birth_date: date
    sex: Sex
    issued_on: date


class CardRead(CardFields):
    """A card read as the reader agent produces it: profile + signature over a fresh nonce.

    `signature` is null for a profile-only read (a real NHI card without our key): refused
    unless the explicit, logged profile-only pilot mode is on (DESIGN "Cards").
    """

    nonce: Nonce
    signature: Signature | None


class Household(Model):
    """Citizens' proof: household number and registered township / village / neighbourhood."""

    household_no: ShortText
    township: ShortText
    village: ShortText
    neighborhood: Annotated[str, StringConstraints(min_length=1, max_length=8)]


class Residence(Model):
    """Foreign residents' proof: the chip residence permit's dates and back serial."""

    issued_on: date
    expires_on: date
    serial_no: ShortText


class ProofChoice(Model):
    """Mixin for a request or body carrying `household` and `residence` fields: how many of the
    two proofs it must give is checked here, the one place for every model that carries them.

    `proofs_required` 1: exactly one (registration); 0: at most one (password reset).
    """

    proofs_required: ClassVar[int] = 1

    @model_validator(mode="after")
    def _count_proofs(self) -> Self:
        given = sum(proof is not None for proof in self.proofs_given)
        if given > 1 or given < self.proofs_required:
            quantity = "exactly" if self.proofs_required else "at most"
            raise ValueError(f"give {quantity} one of household or residence")
        return self

    @property
    def proofs_given(self) -> tuple[Household | None, Residence | None]:
        return (getattr(self, "household", None), getattr(self, "residence", None))


class Empty(Model):
    pass


class ErrorDetail(Model):
    code: ErrorCode
    message: str
    reason: str | None = None
    retry_after: int | None = None
    correlation_id: str | None = None

    # The one conversion between a typed failure and its wire form, on the bus and over HTTP.
    @classmethod
    def of(cls, failure: ServiceFailure, **extra: Any) -> Self:
        return cls(
            code=failure.code,
            message=failure.message,
            reason=failure.reason,
            retry_after=failure.retry_after,
            correlation_id=failure.correlation_id,
            **extra,
        )

    def failure(self) -> ServiceFailure:
        return ServiceFailure(
            self.code,
            self.message,
            reason=self.reason,
            retry_after=self.retry_after,
            correlation_id=self.correlation_id,
        )


class ErrorReply(Model):
    """The body of every error: on the bus and over HTTP alike."""

    error: ErrorDetail
