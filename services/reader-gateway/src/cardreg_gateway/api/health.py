"""Liveness and readiness for operators (compose health checks, load balancers).

`/healthz` is live: the process answers HTTP, whatever the bus does (restarting a gateway
would not bring NATS back). `/readyz` is ready for traffic: connected to NATS and the
services it calls (`required_services`) answering discovery; `reason` names what is missing.
`/metrics` is on its own router: the HTTP listeners serve it unless `metrics_port` moves it.
"""

from __future__ import annotations

from typing import Literal

from cardreg_shared import metrics
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Model
from fastapi import APIRouter, Response

from .deps import GatewayDep
from .errors import error_responses

router = APIRouter(tags=["operations"])
metrics_router = APIRouter(tags=["operations"])


class Health(Model):
    status: Literal["ok"] = "ok"


@router.get(
    "/healthz",
    response_model=Health,
    summary="Live: the process answers",
    responses=error_responses(),
)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Health,
    summary="Ready for traffic: started, connected to NATS, the registry answering discovery",
    responses=error_responses(ErrorCode.UNAVAILABLE),
)
async def readyz(gateway: GatewayDep) -> Health:
    # The gateway object exists only once start-up has set everything up.
    missing = await gateway.missing()
    if missing:
        raise ServiceFailure(ErrorCode.UNAVAILABLE, reason=",".join(missing))
    return Health()


@metrics_router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus metrics of this process (every label is a route template, subject or code)."""
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)
