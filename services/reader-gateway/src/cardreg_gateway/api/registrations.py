"""Registration (FAQ 4-6) and its status lookup (FAQ 12); both start from a card read."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import (
    CardRead,
    Household,
    Language,
    Model,
    Password,
    ProofChoice,
    Residence,
)
from cardreg_shared.models.registry import (
    Email,
    LookupReply,
    LookupRequest,
    Phone,
    RegisterReply,
    RegisterRequest,
    SetupCode,
    SetupCompleteRequest,
)
from cardreg_shared.subjects import SETUP_COMPLETE
from fastapi import APIRouter, Response
from pydantic import ConfigDict, Field

from .deps import GatewayDep
from .errors import BODY_ERRORS, CARD_ERRORS, error_responses
from .replies import json_reply

router = APIRouter(prefix="/api/v1/registrations", tags=["registration"])


class RegistrationBody(ProofChoice):
    """Card read + exactly one proof: household (citizens) or residence permit (foreigners)."""

    # The rule of `ProofChoice` (exactly one proof), in the schema too (each property's own schema
    # still applies).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["household"],
                    "properties": {"household": {"type": "object"}, "residence": {"type": "null"}},
                },
                {
                    "required": ["residence"],
                    "properties": {"residence": {"type": "object"}, "household": {"type": "null"}},
                },
            ]
        }
    )

    card: CardRead
    household: Household | None = None
    residence: Residence | None = None
    password: Password
    email: Email | None = None
    phone: Phone | None = None
    language: Language = Field("zh-TW", description="Language of the account's mail.")

    def to_request(self) -> RegisterRequest:
        # The web API is the online channel; counters and employers have their own.
        return RegisterRequest(
            card=self.card,
            household=self.household,
            residence=self.residence,
            password=self.password,
            email=self.email,
            phone=self.phone,
            channel="online",
            language=self.language,
        )


@router.post(
    "/lookup",
    response_model=LookupReply,
    summary="Has the card holder registered? (FAQ 12)",
    responses=error_responses(*BODY_ERRORS, *CARD_ERRORS),
)
async def lookup(body: LookupRequest, gateway: GatewayDep) -> Response:
    reply = await gateway.card_reads.run(
        "lookup", body.card, lambda: gateway.registry.lookup(body.card)
    )
    return json_reply(reply, 200)


@router.post(
    "",
    status_code=201,
    response_model=RegisterReply,
    summary="Register with card + household or residence-permit data",
    description="Replies with the new account's opaque id; personal data is never echoed.",
    responses=error_responses(
        *BODY_ERRORS,
        *CARD_ERRORS,
        ErrorCode.PROOF_KIND_MISMATCH,
        ErrorCode.HOUSEHOLD_MISMATCH,
        ErrorCode.RESIDENCE_MISMATCH,
        ErrorCode.VERIFICATION_LOCKED,
        ErrorCode.ALREADY_REGISTERED,
        ErrorCode.ACCOUNT_DEACTIVATED,
        ErrorCode.WEAK_PASSWORD,
    ),
)
async def register(body: RegistrationBody, gateway: GatewayDep) -> RegisterReply:
    return await gateway.card_reads.run(
        "registration", body.card, lambda: gateway.registry.register(body.to_request())
    )


class SetupBody(Model):
    code: SetupCode
    card: CardRead
    password: Password


@router.post(
    "/setup",
    status_code=201,
    response_model=RegisterReply,
    summary="Finish a counter or employer registration with your card and a new password",
    description="The setup code from the counter's slip or the mailed link, the card read of "
    "the person it was issued for, and a new password. A wrong, used or expired code and "
    "another person's card get the same `setup_invalid`.",
    responses=error_responses(
        *BODY_ERRORS,
        *CARD_ERRORS,
        ErrorCode.SETUP_INVALID,
        ErrorCode.ACCOUNT_DEACTIVATED,
        ErrorCode.WEAK_PASSWORD,
    ),
)
async def complete_setup(body: SetupBody, gateway: GatewayDep) -> RegisterReply:
    request = SetupCompleteRequest(code=body.code, card=body.card, password=body.password)
    return await gateway.card_reads.run(
        "setup", body.card, lambda: gateway.registry.ask(SETUP_COMPLETE, request)
    )
