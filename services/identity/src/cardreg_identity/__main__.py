"""python -m cardreg_identity: serve the identity subjects until SIGTERM / SIGINT."""

from __future__ import annotations

import logging

import uvloop
from cardreg_shared import bus, logs

from .app import IdentityApp
from .settings import IdentitySettings

log = logging.getLogger("cardreg.identity")


async def serve() -> None:
    app = IdentityApp(IdentitySettings())
    try:
        await app.start()
        log.info("ready")
        await bus.wait_for_shutdown()
        log.info("stopping")
    finally:
        await app.stop()


def main() -> None:
    logs.configure("identity")
    uvloop.run(serve())


if __name__ == "__main__":
    main()
