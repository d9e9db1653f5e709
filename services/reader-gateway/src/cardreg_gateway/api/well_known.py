"""`/.well-known/jwks.json`: the keys relying services verify access tokens with."""

from __future__ import annotations

from cardreg_shared.models.registry import JwksReply
from fastapi import APIRouter, Response

from .deps import GatewayDep
from .errors import error_responses

router = APIRouter(tags=["tokens"])


@router.get(
    "/.well-known/jwks.json",
    response_model=JwksReply,
    response_model_exclude_none=True,
    summary="Public signing keys: access tokens (EdDSA), id_tokens (EdDSA, RS256)",
    responses=error_responses(),
)
async def jwks(gateway: GatewayDep, response: Response) -> JwksReply:
    # Public and shared by every caller; a short cache keeps key rotation quick.
    response.headers["Cache-Control"] = "public, max-age=300"
    return await gateway.registry.jwks()
