"""`POST /api/v1/challenges`: a fresh nonce for the card to sign."""

from __future__ import annotations

from cardreg_shared.models.common import Model
from fastapi import APIRouter
from pydantic import Field

from .deps import GatewayDep
from .errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["card"])


class ChallengeReply(Model):
    nonce: str = Field(description="32 random bytes, base64url without padding; single use.")
    expires_in: int = Field(description="Seconds the nonce stays valid.")


@router.post(
    "/challenges",
    status_code=201,
    response_model=ChallengeReply,
    summary="Issue a card challenge",
    responses=error_responses(),
)
async def issue_challenge(gateway: GatewayDep) -> ChallengeReply:
    challenge = await gateway.nonces.issue()
    return ChallengeReply(nonce=challenge.nonce, expires_in=challenge.expires_in)
