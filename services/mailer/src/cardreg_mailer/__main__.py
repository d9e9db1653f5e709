"""`python -m cardreg_mailer`: send mail requests from the MAIL stream until SIGTERM or SIGINT."""

from __future__ import annotations

import logging

import uvloop
from cardreg_shared import bus, logs

from .app import Mailer
from .settings import MailerSettings

log = logging.getLogger("cardreg.mailer")


async def serve(settings: MailerSettings) -> None:
    nc = await bus.connect(settings.nats_url, name="mailer", credentials=settings.nats_credentials)
    try:
        mailer = await Mailer.start(settings, nc)
        log.info("ready")
        try:
            await bus.wait_for_shutdown()
        finally:
            log.info("stopping")
            await mailer.stop()
    finally:
        await nc.drain()


def main() -> None:
    logs.configure("mailer")
    uvloop.run(serve(MailerSettings()))


if __name__ == "__main__":
    main()
