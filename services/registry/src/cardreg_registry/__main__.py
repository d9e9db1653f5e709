"""`python -m cardreg_registry`: serve the registry subjects until SIGTERM or SIGINT."""

from __future__ import annotations

import logging

import uvloop
from cardreg_shared import bus, logs

from .app import Registry
from .settings import RegistrySettings

log = logging.getLogger("cardreg.registry")


async def serve(settings: RegistrySettings) -> None:
    nc = await bus.connect(
        settings.nats_url, name="registry", credentials=settings.nats_credentials
    )
    try:
        registry = await Registry.start(settings, nc)
        log.info("ready")
        try:
            await bus.wait_for_shutdown()
        finally:
            log.info("stopping")
            await registry.stop()
    finally:
        await nc.drain()


def main() -> None:
    logs.configure("registry")
    uvloop.run(serve(RegistrySettings()))


if __name__ == "__main__":
    main()
