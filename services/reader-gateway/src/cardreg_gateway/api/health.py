"""Liveness and readiness for operators (compose health checks, load balancers)."""

from __future__ import annotations

from typing import Literal

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Model
from fastapi import APIRouter

from .deps import GatewayDep
from .errors import error_responses

router = APIRouter(tags=["operations"])


class Health(Model):
    status: Literal["ok"] = "ok"


@router.get(
    "/healthz",
    response_model=Health,
    summary="Up and connected to NATS",
    responses=error_responses(ErrorCode.UNAVAILABLE),
)
async def healthz(gateway: GatewayDep) -> Health:
    if not gateway.connected:
        raise ServiceFailure(ErrorCode.UNAVAILABLE)
    return Health()


@router.get(
    "/readyz",
    response_model=Health,
    summary="Ready for traffic: connected, stream and nonce bucket set up",
    responses=error_responses(ErrorCode.UNAVAILABLE),
)
async def readyz(gateway: GatewayDep) -> Health:
    # The gateway object exists only once start-up has set everything up.
    return await healthz(gateway)
