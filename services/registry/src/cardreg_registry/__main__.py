"""`python -m cardreg_registry`: serve the registry subjects until SIGTERM or SIGINT."""

from __future__ import annotations

import uvloop
from cardreg_shared import bus, logs

from .app import Registry
from .settings import RegistrySettings


def main() -> None:
    logs.configure("registry")
    settings = RegistrySettings()
    raise SystemExit(
        uvloop.run(
            bus.serve(
                "registry",
                settings.nats_url,
                lambda nc: Registry.start(settings, nc),
                credentials=settings.nats_credentials,
                metrics=settings.metrics_endpoint,
            )
        )
    )


if __name__ == "__main__":
    main()
