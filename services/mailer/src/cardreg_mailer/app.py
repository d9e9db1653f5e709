"""Wiring: settings -> adapters -> flows -> transport, and the service's start/stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from cardreg_shared import bus
from cardreg_shared.bus import ServiceHost
from cardreg_shared.subjects import MAIL_DEAD_LETTERS, MAIL_STREAM
from cardreg_shared.tasks import within
from nats.aio.client import Client

from . import __version__, transport
from .adapters.ledger import SqliteLedger
from .adapters.postgres_ledger import PgLedger
from .adapters.smtp import SmtpConfig, SmtpPool
from .adapters.templates import TemplateRenderer
from .flows.deliver import DeliverMail
from .flows.stats import ReportStats
from .settings import MailerSettings
from .transport import MailConsumer

log = logging.getLogger("cardreg.mailer")

DESCRIPTION = "cardreg mailer: mail requests from the MAIL stream over SMTP"
STOP_STEP_SECONDS = 10.0


def smtp_config(settings: MailerSettings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
        validate_certs=settings.smtp_validate_certs,
        local_hostname=settings.smtp_local_hostname,
    )


async def open_ledger(settings: MailerSettings) -> SqliteLedger | PgLedger:
    """PostgreSQL when given its URL (a connection per mail in hand, and a few), else mailer.db."""
    if settings.database_url is not None:
        return await PgLedger.open(
            settings.database_url.get_secret_value(), max_connections=2 * settings.connections + 4
        )
    return await SqliteLedger.open(settings.db_path)


class Mailer:
    """The mailer on one NATS connection: open with `start`, close with `stop`."""

    def __init__(
        self,
        settings: MailerSettings,
        ledger: SqliteLedger | PgLedger,
        pool: SmtpPool,
        host: ServiceHost,
        consumer: MailConsumer,
    ) -> None:
        self.settings = settings
        self._ledger = ledger
        self._pool = pool
        self._host = host
        self._consumer = consumer

    @classmethod
    async def start(cls, settings: MailerSettings, nc: Client) -> Mailer:
        renderer = TemplateRenderer(support_contact=settings.support_contact)
        renderer.load_all()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ledger = await open_ledger(settings)
        pool = SmtpPool(smtp_config(settings), settings.connections)
        try:
            pruned = await ledger.prune(timedelta(days=settings.ledger_retention_days))
            if pruned:
                log.info("ledger: forgot %d sends past retention", pruned)
            host = ServiceHost(
                nc, name="mailer", version=__version__, description=DESCRIPTION, max_in_flight=16
            )
            transport.register(host, stats=ReportStats(ledger))
            await host.start()
            js = nc.jetstream()
            streams = bus.replicated([MAIL_STREAM, MAIL_DEAD_LETTERS], settings.jetstream_replicas)
            await bus.ensure_streams(js, streams)
            deliver = DeliverMail(
                ledger,
                renderer,
                pool,
                mail_from=settings.mail_from,
                sender_address=settings.sender_address,
                policy=settings.retry_policy(),
            )
            consumer = MailConsumer(
                js,
                deliver,
                limit=2 * settings.connections,
                ack_wait=settings.ack_wait_seconds,
                fetch_wait=settings.fetch_wait_seconds,
                release_delay=settings.backoff_base_seconds,
                replicas=settings.jetstream_replicas,
            )
            try:
                await consumer.start()
            except BaseException:
                await host.stop()
                raise
        except BaseException:
            await ledger.close()
            raise
        return cls(settings, ledger, pool, host, consumer)

    async def stop(self) -> None:
        """Stop pulling, settle every mail in hand, close SMTP, stop serving, close the ledger.
        Each step is bounded, and the ledger is closed whatever came before: a mail still in
        hand when its bound runs out is not acked, so it is redelivered later."""
        # A mail in hand takes at most one SMTP timeout to settle.
        settle = self.settings.smtp_timeout_seconds + STOP_STEP_SECONDS
        try:
            await within(settle, self._consumer.stop(), "the mail consumer")
            await within(STOP_STEP_SECONDS, self._pool.close(), "the SMTP connections")
            await within(STOP_STEP_SECONDS, self._host.stop(), "the service's endpoints")
        finally:
            await self._ledger.close()


@asynccontextmanager
async def running_mailer(nats_url: str, data_dir: Path, **overrides: Any) -> AsyncIterator[Mailer]:
    """The whole service in-process on its own connection (tests, embedding)."""
    settings = MailerSettings(nats_url=nats_url, data_dir=data_dir, **overrides)
    async with bus.running(
        "mailer",
        settings.nats_url,
        lambda nc: Mailer.start(settings, nc),
        credentials=settings.nats_credentials,
    ) as mailer:
        yield mailer
