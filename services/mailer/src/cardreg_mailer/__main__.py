"""`python -m cardreg_mailer`: send mail requests from the MAIL stream until SIGTERM or SIGINT."""

from __future__ import annotations

import uvloop
from cardreg_shared import bus, logs

from .app import Mailer
from .settings import MailerSettings


def main() -> None:
    logs.configure("mailer")
    settings = MailerSettings()
    raise SystemExit(
        uvloop.run(
            bus.serve(
                "mailer",
                settings.nats_url,
                lambda nc: Mailer.start(settings, nc),
                credentials=settings.nats_credentials,
                metrics=settings.metrics_endpoint,
            )
        )
    )


if __name__ == "__main__":
    main()
