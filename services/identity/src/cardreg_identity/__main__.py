"""`python -m cardreg_identity`: serve the identity subjects until SIGTERM or SIGINT."""

from __future__ import annotations

import uvloop
from cardreg_shared import bus, logs

from .app import Identity
from .settings import IdentitySettings


def main() -> None:
    logs.configure("identity")
    settings = IdentitySettings()
    raise SystemExit(
        uvloop.run(
            bus.serve(
                "identity",
                settings.nats_url,
                lambda nc: Identity.start(settings, nc),
                credentials=settings.nats_credentials,
                metrics=settings.metrics_endpoint,
            )
        )
    )


if __name__ == "__main__":
    main()
