"""Mailer test fixtures: a real SMTP server (aiosmtpd, in a thread) and helpers around the
MAIL stream on the real nats-server of the `nats_url` fixture."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cardreg_mailer.app import running_mailer
from cardreg_shared import bus
from cardreg_shared.models.common import Empty
from cardreg_shared.models.mail import (
    DeadLetter,
    EmailChangedMail,
    MailerStatsReply,
    PasswordChangedMail,
    PasswordResetMail,
)
from cardreg_shared.subjects import MAIL_DEAD_LETTERS, MAIL_REQUESTS, MAIL_STREAM, MAILER_STATS
from cardreg_testkit.net import free_port
from cardreg_testkit.waits import wait_until
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import Header

# Fast retries and shutdown: the defaults (1 s backoff, 1 s pulls) would only slow tests down.
FAST = {"backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.2, "fetch_wait_seconds": 0.2}
SUBJECT_OF = {m.payload: m.name for m in MAIL_REQUESTS}


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


class SmtpSink:
    """An aiosmtpd server that keeps what it accepts; it can refuse, defer, stop and start."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.refuse_recipients: set[str] = set()  # RCPT answered 550
        self.data_reply: str | None = None  # e.g. "451 4.3.0 try later" instead of accepting
        self.data_delay = 0.0  # seconds before answering DATA: a slow server
        self.sessions = 0  # EHLOs seen: how many SMTP sessions were opened
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="sink.localhost"
        )
        self._controller.start()

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    # aiosmtpd handler hooks (run on the server's own thread and loop)
    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 2.0.0 accepted"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def by_request(self) -> Counter[str]:
        """How many copies of each Message-ID arrived."""
        return Counter(r.message_id for r in self.snapshot())


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def sink(smtp_port: int) -> Iterator[SmtpSink]:
    server = SmtpSink(smtp_port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def idle_sink(smtp_port: int) -> Iterator[SmtpSink]:
    """A sink not yet listening: SMTP is down until the test starts it."""
    server = SmtpSink(smtp_port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await bus.connect(nats_url, name="test", allow_reconnect=False)
    js = client.jetstream()
    await bus.ensure_streams(js, [MAIL_STREAM, MAIL_DEAD_LETTERS])
    try:
        yield client
    finally:
        await client.drain()


def new_request_id() -> str:
    return secrets.token_urlsafe(18)


def reset_mail(**fields: Any) -> PasswordResetMail:
    values: dict[str, Any] = {
        "request_id": new_request_id(),
        "to": "mei.lin@example.com",
        "requested_at": datetime.now(UTC),
        "reset_url": f"https://portal.example/reset?token={secrets.token_urlsafe(32)}",
        "expires_in_minutes": 30,
    }
    return PasswordResetMail(**{**values, **fields})


def changed_mail(**fields: Any) -> PasswordChangedMail:
    values: dict[str, Any] = {
        "request_id": new_request_id(),
        "to": "mei.lin@example.com",
        "requested_at": datetime.now(UTC),
        "how": "change",
    }
    return PasswordChangedMail(**{**values, **fields})


def email_changed_mail(**fields: Any) -> EmailChangedMail:
    values: dict[str, Any] = {
        "request_id": new_request_id(),
        "to": "mei.lin@example.com",
        "requested_at": datetime.now(UTC),
        "new_email_masked": "n***@example.org",
    }
    return EmailChangedMail(**{**values, **fields})


class MailLab:
    """What the tests do around the mailer: build and publish requests as the registry's outbox
    relay does, run the mailer in-process, read its counters and the dead letters."""

    reset = staticmethod(reset_mail)
    changed = staticmethod(changed_mail)
    email_changed = staticmethod(email_changed_mail)
    wait_for = staticmethod(wait_until)

    def __init__(self, nats_url: str, nc: Client, data_dir: Path) -> None:
        self.nats_url = nats_url
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.data_dir = data_dir

    def settings(self, sink: SmtpSink, **overrides: Any) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": sink.port, **FAST, **overrides}

    def mailer(self, sink: SmtpSink, **overrides: Any):
        return running_mailer(self.nats_url, self.data_dir, **self.settings(sink, **overrides))

    async def publish(self, mail: Any, *, msg_id: str | None = None) -> None:
        await self.js.publish(
            SUBJECT_OF[type(mail)],
            mail.model_dump_json().encode(),
            headers={Header.MSG_ID: msg_id or f"outbox-{secrets.token_hex(8)}"},
        )

    async def stats(self) -> MailerStatsReply:
        return await bus.request(self.nc, MAILER_STATS, Empty())

    async def waiting(self) -> int:
        """Requests still in the MAIL stream (work queue: an acked one leaves it)."""
        return (await self.js.stream_info(MAIL_STREAM.name)).state.messages

    async def settled(self) -> bool:
        return await self.waiting() == 0

    async def dead_letters(self) -> list[tuple[str, DeadLetter]]:
        """Everything in the dead-letter stream, oldest first."""
        state = (await self.js.stream_info(MAIL_DEAD_LETTERS.name)).state
        if state.messages == 0:
            return []
        letters = []
        for seq in range(state.first_seq, state.last_seq + 1):
            raw = await self.js.get_msg(MAIL_DEAD_LETTERS.name, seq)
            letters.append((raw.subject, DeadLetter.model_validate_json(raw.data)))
        return letters


@pytest.fixture
def lab(nats_url: str, nc: Client, tmp_path: Path) -> MailLab:
    return MailLab(nats_url, nc, tmp_path / "data")
