"""Log in with card + password, log out (FAQ 2, 3, 11)."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.registry import SessionCreateReply, SessionCreateRequest
from fastapi import APIRouter, Response

from .deps import GatewayDep, TokenDep
from .errors import BODY_ERRORS, CARD_ERRORS, error_responses
from .replies import json_reply

router = APIRouter(prefix="/api/v1/sessions", tags=["session"])


@router.post(
    "",
    status_code=201,
    response_model=SessionCreateReply,
    summary="Log in with card + password",
    description="`card_updated` is true when a newer card of the same person became the "
    "account's bound card (FAQ 11).",
    responses=error_responses(
        *BODY_ERRORS,
        *CARD_ERRORS,
        ErrorCode.INVALID_CREDENTIALS,
        ErrorCode.ACCOUNT_LOCKED,
        ErrorCode.ACCOUNT_DEACTIVATED,
    ),
)
async def log_in(body: SessionCreateRequest, gateway: GatewayDep) -> Response:
    reply = await gateway.card_reads.run(
        "login", body.card, lambda: gateway.registry.create_session(body)
    )
    return json_reply(reply, 201)


@router.delete(
    "/current",
    status_code=204,
    response_class=Response,
    summary="Log out: revoke this session",
    responses=error_responses(ErrorCode.UNAUTHORIZED),
)
async def log_out(token: TokenDep, gateway: GatewayDep) -> Response:
    await gateway.registry.revoke_session(token)
    return Response(status_code=204)
