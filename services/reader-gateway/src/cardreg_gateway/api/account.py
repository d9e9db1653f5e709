"""The signed-in account (FAQ 9, 13): profile with identifiers masked."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.registry import AccountProfile
from fastapi import APIRouter

from .deps import GatewayDep, TokenDep
from .errors import error_responses

router = APIRouter(prefix="/api/v1/account", tags=["account"])


@router.get(
    "",
    response_model=AccountProfile,
    summary="The signed-in account's profile, identifiers masked",
    responses=error_responses(ErrorCode.UNAUTHORIZED),
)
async def profile(token: TokenDep, gateway: GatewayDep) -> AccountProfile:
    return await gateway.registry.account(token)
