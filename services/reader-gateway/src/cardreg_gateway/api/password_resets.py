"""Forgotten password (FAQ 7): ask for a reset link with the card, then set a new password
with the link's token.

The token is a secret: it arrives only in a request body (never logged: the access log has
no bodies) and no error quotes it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import (
    CardRead,
    Household,
    Model,
    Password,
    ProofChoice,
    Residence,
)
from cardreg_shared.models.registry import Email, PasswordResetComplete, PasswordResetRequest
from fastapi import APIRouter, Response
from pydantic import ConfigDict, Field, SecretStr, model_validator

from .deps import GatewayDep
from .errors import BODY_ERRORS, CARD_ERRORS, error_responses

router = APIRouter(prefix="/api/v1/password-resets", tags=["password reset"])

ACCEPTED_MESSAGE = (
    "If this card has an active registration with an email address we can use, "
    "a reset link is on its way. The link works once and for a limited time."
)


class ResetBody(ProofChoice):
    """The card read, and, when no email address is on file, the proof plus the address to
    send the link to."""

    # The rules of `ProofChoice` (at most one proof) and `_address_needs_proof`, in the schema too.
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["household", "residence"],
                "properties": {"household": {"type": "object"}, "residence": {"type": "object"}},
            },
            "anyOf": [
                {"not": {"required": ["email"], "properties": {"email": {"type": "string"}}}},
                {"required": ["household"], "properties": {"household": {"type": "object"}}},
                {"required": ["residence"], "properties": {"residence": {"type": "object"}}},
            ],
        }
    )

    proofs_required: ClassVar[int] = 0

    card: CardRead
    household: Household | None = Field(None, description="Citizens without an email on file.")
    residence: Residence | None = Field(
        None, description="Foreign residents without an email on file."
    )
    email: Email | None = Field(
        None, description="Where to send the link; only with household or residence data."
    )

    @model_validator(mode="after")
    def _address_needs_proof(self) -> ResetBody:
        # A new address must come with proof, or a stolen card alone could redirect the link.
        if self.email is not None and self.household is None and self.residence is None:
            raise ValueError("an email address needs household or residence data with it")
        return self

    def to_request(self) -> PasswordResetRequest:
        return PasswordResetRequest(
            card=self.card, household=self.household, residence=self.residence, email=self.email
        )


class ResetCompletion(Model):
    # A secret like the password: hidden from reprs, write-only in the OpenAPI document.
    token: Annotated[SecretStr, Field(min_length=1, max_length=256)] = Field(
        description="The `token` query parameter of the reset link."
    )
    new_password: Password

    def to_request(self) -> PasswordResetComplete:
        return PasswordResetComplete(
            token=self.token.get_secret_value(), new_password=self.new_password
        )


class ResetAccepted(Model):
    """The one reply to every reset request the card check let through."""

    status: Literal["accepted"] = "accepted"
    message: str = Field(ACCEPTED_MESSAGE, description="Always this text.")


ACCEPTED = ResetAccepted()


@router.post(
    "",
    status_code=202,
    response_model=ResetAccepted,
    summary="Ask for a password-reset link (FAQ 7)",
    description="With an email address on file, the card alone suffices. Without one, send the "
    "household (citizens) or residence-permit (foreign residents) data and the address to "
    "mail the link to. Once the card read checks out, the reply is the same whatever "
    "happened: whether an account exists, has an address, or the data matched is never said.",
    responses=error_responses(*BODY_ERRORS, *CARD_ERRORS),
)
async def request_reset(body: ResetBody, gateway: GatewayDep) -> ResetAccepted:
    await gateway.reset_requests.submit(body.to_request())
    return ACCEPTED


@router.post(
    "/complete",
    status_code=204,
    response_class=Response,
    summary="Set a new password with the reset link's token",
    description="The token is single use and expires 30 minutes after the request; a newer "
    "request voids it. Success signs out every session and mails a notice.",
    responses=error_responses(*BODY_ERRORS, ErrorCode.RESET_TOKEN_INVALID, ErrorCode.WEAK_PASSWORD),
)
async def complete_reset(body: ResetCompletion, gateway: GatewayDep) -> Response:
    await gateway.registry.complete_password_reset(body.to_request())
    return Response(status_code=204)
