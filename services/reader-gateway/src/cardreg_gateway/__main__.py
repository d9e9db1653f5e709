"""`python -m cardreg_gateway`: serve the HTTP API until SIGTERM or SIGINT, then drain NATS.

`bus.serve` connects first, before uvicorn starts, so that a stop signal while NATS is still
unreachable (nats-py keeps retrying) ends the process at once instead of failing start-up.
"""

from __future__ import annotations

import uvloop
from cardreg_shared import bus, logs

from .app import HttpServer
from .settings import GatewaySettings


def main() -> None:
    logs.configure("gateway")
    settings = GatewaySettings()
    raise SystemExit(
        uvloop.run(
            bus.serve(
                "gateway",
                settings.nats_url,
                lambda nc: HttpServer.start(settings, nc),
                credentials=settings.nats_credentials,
                metrics=settings.metrics_endpoint,
            )
        )
    )


if __name__ == "__main__":
    main()
