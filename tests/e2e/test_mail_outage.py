"""Mail while the SMTP server is down, and reset links that expire: `cardreg up --smtp` with
a real aiosmtpd server that comes up only after the mail was requested."""

from __future__ import annotations

import email
import email.policy
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller

from .system import Portal, RunningSystem, error_code, free_port, reset_token

PASSWORD = "tea-mountain-harbour"
TOKEN_TTL = 3


class Inbox:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 60) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} mails in {timeout} s")
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def outage_system(tmp_path_factory, smtp_port) -> Iterator[RunningSystem]:
    env = {
        "CARDREG_MAILER_BACKOFF_BASE_SECONDS": "0.2",
        "CARDREG_MAILER_BACKOFF_CAP_SECONDS": "1",
        "CARDREG_MAILER_SMTP_SECURITY": "none",
        "CARDREG_REGISTRY_RESET_TOKEN_TTL_SECONDS": str(TOKEN_TTL),
    }
    system = RunningSystem(tmp_path_factory.mktemp("outage"), env=env)
    system.start(extra=("--smtp", f"127.0.0.1:{smtp_port}"))
    try:
        yield system
    finally:
        system.stop()


def test_mail_requested_while_smtp_is_down_arrives_exactly_once(outage_system, smtp_port, tmp_path):
    people = outage_system.seed(tmp_path / "wallet.jsonl", citizens=6, foreigners=0)
    with httpx.Client(base_url=outage_system.url, timeout=30) as http:
        portal = Portal(http)
        for me in people:
            address = f"{me.card.card_no}@example.com"
            assert portal.register(me, PASSWORD, email=address).status_code == 201
            assert portal.forgot(me).status_code == 202

        # Every request is queued and retried; now the server comes up.
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            inbox.wait_for(len(people))
            # Let retries still in flight land, then count: one mail per request, never two.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                time.sleep(0.1)
            received = Counter(str(m["To"]) for m in inbox.messages)
            assert received == Counter(f"{me.card.card_no}@example.com" for me in people)
            assert len({m["Message-ID"] for m in inbox.messages}) == len(people)

            # The link expires after its time (here TOKEN_TTL seconds).
            token = reset_token(inbox.messages[0])
            expires = time.monotonic() + TOKEN_TTL + 0.5
            while time.monotonic() < expires:
                time.sleep(0.1)
            late = portal.complete(token, "river-lantern-orchid")
            assert late.status_code == 400 and error_code(late) == "reset_token_invalid"
        finally:
            controller.stop()
