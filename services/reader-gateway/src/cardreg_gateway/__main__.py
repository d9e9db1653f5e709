"""`python -m cardreg_gateway`: serve the HTTP API until SIGTERM or SIGINT, then drain NATS.

NATS is connected here, before uvicorn starts, so that a stop signal while NATS is still
unreachable (nats-py keeps retrying) ends the process at once instead of failing start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
import uvloop
from cardreg_shared import bus, logs
from nats.aio.client import Client
from nats.errors import Error as NatsError

from .app import create_app
from .settings import GatewaySettings

log = logging.getLogger("cardreg.gateway")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises the signal after shutdown, and we
    want a clean exit once NATS is drained."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: GatewaySettings) -> int:
    """Serve until a stop signal; the exit status."""
    stopping = asyncio.create_task(bus.wait_for_shutdown())
    try:
        nc = await _connect(settings, stopping)
        if nc is None:
            return 0 if stopping.done() else 1
        try:
            await _serve_http(settings, nc, stopping)
        finally:
            if not nc.is_closed:
                await nc.drain()
    finally:
        stopping.cancel()
    log.info("stopped")
    return 0


async def _connect(settings: GatewaySettings, stopping: asyncio.Task[None]) -> Client | None:
    connecting = asyncio.create_task(
        bus.connect(settings.nats_url, name="gateway", credentials=settings.nats_credentials)
    )
    await asyncio.wait({stopping, connecting}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        log.info("stopped before NATS was reachable")
        return None
    try:
        return connecting.result()
    except (NatsError, OSError) as exc:
        # No URL in the log: it may carry credentials.
        log.error("could not connect to NATS: %s", type(exc).__name__)
        return None


async def _serve_http(settings: GatewaySettings, nc: Client, stopping: asyncio.Task[None]) -> None:
    config = uvicorn.Config(
        create_app(settings, nc=nc),
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,  # our logging setup, not uvicorn's
        access_log=False,  # ours names the route and drops query strings
        server_header=False,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve())
    announcing = asyncio.create_task(_announce(server, serving))
    await asyncio.wait({stopping, serving}, return_when=asyncio.FIRST_COMPLETED)
    announcing.cancel()
    server.should_exit = True
    await serving  # finishes in-flight requests, then the lifespan's shutdown


async def _announce(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        log.info("listening on http://%s:%s", host, port)


def main() -> None:
    logs.configure("gateway")
    raise SystemExit(uvloop.run(serve(GatewaySettings())))


if __name__ == "__main__":
    main()
