"""`POST /api/v1/challenges`: a fresh nonce for the card to sign.

The call takes no input: an empty body, or `{}` as JSON. Anything else (another JSON value,
another media type, bytes that are not UTF-8) is a client's mistake and gets 400
`invalid_request` rather than being ignored.
"""

from __future__ import annotations

import json
from typing import Annotated

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Model, Nonce
from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from .deps import GatewayDep
from .errors import BODY_ERRORS, error_responses
from .replies import json_reply

router = APIRouter(prefix="/api/v1", tags=["card"])

NO_INPUT = "This call takes no input: send no body, or {} as application/json."


class ChallengeReply(Model):
    nonce: Nonce = Field(
        description="32 bytes, base64url without padding: 128 random bits, the expiry and a "
        "tag only the gateway can make; single use."
    )
    expires_in: int = Field(description="Seconds the nonce stays valid.")


async def nothing_asked(request: Request) -> None:
    """An empty body, or exactly `{}` as UTF-8 JSON."""
    body = await request.body()
    if not body:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, NO_INPUT)
    try:
        # Decoded here, strictly: json.loads would also guess UTF-16 and UTF-32 from bytes.
        value = json.loads(body.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, NO_INPUT) from exc
    if value != {}:
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, NO_INPUT)


@router.post(
    "/challenges",
    status_code=201,
    response_model=ChallengeReply,
    summary="Issue a card challenge",
    description="Takes no input: no body, or `{}`.",
    responses=error_responses(*BODY_ERRORS),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "maxProperties": 0, "additionalProperties": False}
                }
            },
        }
    },
)
async def issue_challenge(
    gateway: GatewayDep, _: Annotated[None, Depends(nothing_asked)]
) -> Response:
    challenge = gateway.nonces.issue()
    return json_reply(ChallengeReply(nonce=challenge.nonce, expires_in=challenge.expires_in), 201)
