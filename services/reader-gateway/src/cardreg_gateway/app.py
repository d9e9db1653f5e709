"""Wiring: settings -> adapters (nonces, events, registry) -> flows -> the HTTP API, and the
gateway's start/stop.

- `Gateway.start(settings, nc)` sets up what the gateway runs on the bus: the events stream and
  the nonce bucket (idempotent, so any number of replicas may start at once, and again after a
  restarted server), the registry client, the card-read flows, and discovery.
- `create_app(settings, nc=None)` is the ASGI app; its lifespan starts the gateway on `nc` (or
  on a connection of its own, closed at shutdown) and stops it. Tests run it in-process.
- `HttpServer.start(settings, nc)` serves the app with uvicorn: what `python -m
  cardreg_gateway` runs through `bus.serve`, which owns the connection and the signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import uvicorn
from cardreg_shared import bus
from cardreg_shared.logs import stack_of
from fastapi import FastAPI
from nats.aio.client import Client

from .adapters import challenge_keys
from .adapters.events import CardReadEvents
from .adapters.nonces import NonceStore
from .adapters.registry import Registry
from .api.wire import OneSendPerReply
from .domain.rate_limits import TokenBuckets
from .flows.card_reads import CardReadCheck
from .flows.password_resets import ResetRequests
from .settings import GatewaySettings

log = logging.getLogger("cardreg.gateway")

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


class Gateway:
    """The running gateway on one NATS connection: open with `start`, close with `stop`."""

    def __init__(
        self,
        settings: GatewaySettings,
        nc: Client,
        nonces: NonceStore,
        events: CardReadEvents,
        discovery: bus.ServiceHost,
    ) -> None:
        self.settings = settings
        self.nc = nc
        self.nonces = nonces
        self.events = events
        self.registry = Registry(nc, timeout=settings.request_timeout_seconds)
        self.card_reads = CardReadCheck(nonces, events, profile_only=settings.profile_only)
        self.reset_requests = ResetRequests(self.card_reads, self.registry)
        self.token_limits = TokenBuckets(
            settings.oidc_token_rate_per_second, settings.oidc_token_burst, time.monotonic
        )
        self._discovery = discovery
        self._forget_reconnects = bus.when_reconnected(nc, self._restore)
        self._key_refresh = asyncio.create_task(self._refresh_keys(), name="challenge keys")

    @classmethod
    async def start(cls, settings: GatewaySettings, nc: Client) -> Gateway:
        js = nc.jetstream()
        await bus.ensure_streams(js, settings.streams())
        nonces = await NonceStore.open(
            nc,
            bucket=settings.nonce_bucket,
            key_bucket=settings.challenge_key_bucket,
            ttl_seconds=settings.nonce_ttl_seconds,
            replicas=settings.jetstream_replicas,
            rotate_keys_after_seconds=settings.challenge_key_rotate_seconds,
        )
        # No endpoints: registered so that `$SRV.PING/INFO` discovery lists the gateway too.
        discovery = bus.ServiceHost(
            nc, name="gateway", version="0.1.0", description="HTTP edge: portal and JSON API"
        )
        await discovery.start()
        events = CardReadEvents(js, ack_timeout=settings.request_timeout_seconds)
        gateway = cls(settings, nc, nonces, events, discovery)
        if settings.profile_only:
            log.warning("profile-only pilot mode is ON: card reads without proof are accepted")
        return gateway

    async def _restore(self) -> None:
        """After an outage: set the events stream and the buckets up again, as at start-up (a
        server whose JetStream store was lost comes back without them). JetStream may still be
        recovering its streams right after a restart: try again for about half a minute."""
        delay = 0.1
        for _ in range(9):
            try:
                await bus.ensure_streams(self.nc.jetstream(), self.settings.streams())
                await self.nonces.ensure_bucket()
                return
            except bus.BUS_ERRORS as exc:
                if not self.nc.is_connected:
                    return  # gone again: the next reconnect runs this again
                log.warning("setting up JetStream again failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay *= 2
        log.error("could not set up the events stream and the challenge buckets again")

    async def _refresh_keys(self) -> None:
        """Pick up a rotation another replica made, or make it when due."""
        while True:
            await asyncio.sleep(challenge_keys.REFRESH_SECONDS)
            try:
                await self.nonces.refresh_keys()
            except bus.BUS_ERRORS as exc:
                # The keys held stay good; the next round, or the reconnect hook, reads again.
                log.warning("reading the challenge keys failed (%s)", type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - the loop must outlive a bug in one round
                log.error("reading the challenge keys failed: %s", stack_of(exc))

    @property
    def connected(self) -> bool:
        return self.nc.is_connected

    async def missing(self) -> list[str]:
        """What keeps the gateway from serving: the bus, or a required service that does not
        answer discovery. Empty when ready."""
        if not self.connected:
            return ["nats"]
        answers = await asyncio.gather(
            *(bus.service_answers(self.nc, name) for name in self.settings.required_services)
        )
        return [name for name, up in zip(self.settings.required_services, answers) if not up]

    async def stop(self) -> None:
        """Leave discovery; requests in flight have had their replies (uvicorn waits), so only
        the acks of their events may be outstanding: wait for those, each bounded."""
        self._forget_reconnects()
        self._key_refresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._key_refresh
        await self._discovery.stop()
        await self.events.flushed()


def create_app(settings: GatewaySettings | None = None, nc: Client | None = None) -> FastAPI:
    """The gateway's ASGI app. With `nc`, the app uses that connection and leaves it open."""
    # The API modules take the running `Gateway` from here: imported late, not in a cycle.
    from .api import (
        account,
        challenges,
        devices,
        docs,
        errors,
        health,
        oidc,
        password_resets,
        portal,
        registrations,
        sessions,
        well_known,
    )
    from .api.edge import Edge

    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            connection = nc
            if connection is None:
                connection = await bus.connect(
                    settings.nats_url, name="gateway", credentials=settings.nats_credentials
                )
                stack.push_async_callback(bus.close, connection)
            gateway = await Gateway.start(settings, connection)
            stack.push_async_callback(gateway.stop)
            app.state.gateway = gateway
            try:
                yield
            finally:
                app.state.gateway = None

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
        devices,
        password_resets,
        well_known,
        oidc,
        health,
    )
    for module in routers:
        app.include_router(module.router)
    if settings.metrics_port is None:
        app.include_router(health.metrics_router)
    if settings.docs_enabled:
        app.include_router(docs.router)
    portal.install(app, settings)
    return app


def create_operator_app(settings: GatewaySettings, public: FastAPI) -> FastAPI:
    """The operator listener's app: the operator API and the counter console page, on the
    gateway that `public`'s lifespan started (one connection, one registry client for both
    listeners)."""
    from .api import console, errors, health, operator
    from .api.edge import Edge

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = public.state.gateway
        try:
            yield
        finally:
            app.state.gateway = None

    app = FastAPI(
        title="cardreg operator API",
        version=package_version(),
        description="The counter console's API: operators (counter, employer, admin) only.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(Edge, max_body_bytes=settings.max_body_bytes)
    errors.install(app)
    app.include_router(operator.router)
    app.include_router(health.router)
    console.install(app, settings)
    if settings.metrics_port is None:
        app.include_router(health.metrics_router)
    return app


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises the signal after shutdown, and
    `bus.serve` stops us instead, then drains NATS."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(app: FastAPI, host: str, port: int, what: str) -> tuple[_Server, asyncio.Task]:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,  # our logging setup, not uvicorn's
        access_log=False,  # ours names the route and drops query strings
        server_header=False,
        http=OneSendPerReply,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if not server.started:
        serving.result()  # uvicorn's own failure, if it raised one
        raise RuntimeError(f"the {what} HTTP server did not start")
    bound_host, bound_port = server.servers[0].sockets[0].getsockname()[:2]
    log.info("%s listening on http://%s:%s", what, bound_host, bound_port)
    return server, serving


class HttpServer:
    """The app on `nc`, served with uvicorn until `stop()`; the operator API on a listener of
    its own (`operator_host`, `operator_port`) unless that port is None."""

    def __init__(
        self,
        server: uvicorn.Server,
        serving: asyncio.Task[None],
        operator: tuple[uvicorn.Server, asyncio.Task[None]] | None = None,
    ) -> None:
        self._server = server
        self.serving = serving  # ends by itself only if uvicorn does
        self._operator = operator

    @classmethod
    async def start(cls, settings: GatewaySettings, nc: Client) -> HttpServer:
        public = create_app(settings, nc=nc)
        server, serving = await _serve(public, settings.http_host, settings.http_port, "portal")
        if settings.operator_port is None:
            return cls(server, serving)
        try:
            operator = await _serve(
                create_operator_app(settings, public),
                settings.operator_host,
                settings.operator_port,
                "operator API",
            )
        except BaseException:
            server.should_exit = True
            await serving
            raise
        return cls(server, serving, operator)

    async def stop(self) -> None:
        """Finish the requests in flight, the operator listener first, then the app's
        shutdown (the gateway's `stop`)."""
        if self._operator is not None:
            operator, serving = self._operator
            operator.should_exit = True
            await serving
        self._server.should_exit = True
        await self.serving
