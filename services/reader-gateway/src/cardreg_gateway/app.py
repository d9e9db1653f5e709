"""Wiring: settings -> the running gateway (NATS, nonces, events, registry) -> the HTTP API.

`create_app(settings, nc=None)` builds the ASGI app; its lifespan starts the gateway (and
connects to NATS unless handed a connection) and drains it at shutdown. Tests run it
in-process; `python -m cardreg_gateway` serves it with uvicorn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from nats.aio.client import Client

from .api import (
    account,
    challenges,
    docs,
    errors,
    health,
    password_resets,
    portal,
    registrations,
    sessions,
    well_known,
)
from .api.edge import Edge
from .runtime import Gateway
from .settings import GatewaySettings

DESCRIPTION = """\
NHI card online registration: register and log in with the card in your reader plus a
password; change your details and password, or recover a forgotten password by email.

Every call that carries a `card` needs a fresh challenge from `POST /api/v1/challenges`,
signed by the card; a challenge is good for one call only. Errors always have the shape
`{"error": {"code", "message"}}` with a stable `code`.
"""


def package_version() -> str:
    try:
        return version("cardreg-reader-gateway")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(settings: GatewaySettings | None = None, nc: Client | None = None) -> FastAPI:
    """The gateway's ASGI app. With `nc`, the app uses that connection and leaves it open."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = await Gateway.start(settings, nc)
        app.state.gateway = gateway
        try:
            yield
        finally:
            app.state.gateway = None
            await gateway.stop()

    app = FastAPI(
        title="cardreg",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(Edge, max_body_bytes=settings.max_body_bytes)
    errors.install(app)
    routers = (
        challenges,
        registrations,
        sessions,
        account,
        password_resets,
        well_known,
        health,
    )
    for module in routers:
        app.include_router(module.router)
    if settings.docs_enabled:
        app.include_router(docs.router)
    portal.install(app, settings)
    return app
