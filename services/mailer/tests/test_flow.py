"""The delivery flow with in-memory ports: the order of things, and every way a delivery ends."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
from cardreg_mailer.adapters.templates import TemplateRenderer
from cardreg_mailer.domain.retry import RetryPolicy
from cardreg_mailer.flows.deliver import DeliverMail
from cardreg_mailer.flows.ports import DeliveryDeferred, DeliveryRefused, LedgerUnavailable
from cardreg_shared.models.mail import PasswordResetMail


class Journal(list):
    """What happened, in order, across the fakes."""


class FakeLedger:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.sent: set[str] = set()
        self.counts: dict[str, int] = {}
        self.fail_reads = False
        self.fail_writes = False
        self.held_elsewhere: set[str] = set()

    async def is_sent(self, request_id: str) -> bool:
        if self.fail_reads:
            raise LedgerUnavailable("OperationalError")
        return request_id in self.sent

    async def record_sent(self, request_id: str, kind: str, message_id: str) -> None:
        if self.fail_writes:
            raise LedgerUnavailable("OperationalError")
        self.journal.append(("record", request_id))
        self.sent.add(request_id)

    async def count(self, counter: str) -> None:
        self.counts[counter] = self.counts.get(counter, 0) + 1

    async def counters(self) -> dict[str, int]:
        return {"sent": len(self.sent), **self.counts}

    @asynccontextmanager
    async def hold(self, request_id: str) -> AsyncIterator[bool]:
        yield request_id not in self.held_elsewhere


class FakeSender:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.outcomes: list[Exception | None] = []
        self.gate: asyncio.Event | None = None

    async def send(self, data: bytes, *, sender: str, recipient: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        message = BytesParser(policy=policy.default).parsebytes(data)
        self.journal.append(("smtp accepted", message["Message-ID"]))


class FakeDelivery:
    def __init__(self, journal: Journal, subject: str, data: bytes, attempts: int = 1) -> None:
        self.journal = journal
        self.subject = subject
        self.data = data
        self.attempts = attempts
        self.settled: tuple | None = None

    async def done(self) -> None:
        self._settle("ack")

    async def retry_in(self, seconds: float) -> None:
        self._settle("nak", seconds)

    async def give_up(self, reason: str, *, request_id: str | None) -> None:
        self._settle("dead letter", reason, request_id)

    def _settle(self, *how) -> None:
        assert self.settled is None, "settled twice"
        self.settled = how
        self.journal.append(how)


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def ledger(journal) -> FakeLedger:
    return FakeLedger(journal)


@pytest.fixture
def sender(journal) -> FakeSender:
    return FakeSender(journal)


@pytest.fixture
def deliver(ledger, sender) -> DeliverMail:
    return DeliverMail(
        ledger,
        TemplateRenderer(),
        sender,
        mail_from="cardreg <no-reply@cardreg.localhost>",
        sender_address="no-reply@cardreg.localhost",
        policy=RetryPolicy(base_seconds=1, cap_seconds=300, max_attempts=5),
        rng=random.Random(1),
    )


def reset_request(request_id: str = "a" * 22) -> PasswordResetMail:
    return PasswordResetMail(
        request_id=request_id,
        to="mei.lin@example.com",
        requested_at=datetime.now(UTC),
        reset_url="https://portal.example/reset?token=abc",
        expires_in_minutes=30,
    )


def delivery(journal, mail=None, attempts: int = 1) -> FakeDelivery:
    mail = mail or reset_request()
    return FakeDelivery(journal, "mail.password_reset", mail.model_dump_json().encode(), attempts)


async def test_accepted_then_recorded_then_acked(deliver, journal, ledger):
    assert await deliver(delivery(journal)) == "sent"
    mid = "<" + "a" * 22 + "@cardreg.localhost>"
    assert journal == [("smtp accepted", mid), ("record", "a" * 22), ("ack",)]


async def test_an_already_sent_request_is_acked_without_a_send(deliver, journal, ledger):
    ledger.sent.add("a" * 22)
    assert await deliver(delivery(journal)) == "duplicate_skipped"
    assert journal == [("ack",)]
    assert ledger.counts == {"duplicates_skipped": 1}


async def test_a_deferred_send_is_retried_later_with_backoff(deliver, journal, sender, ledger):
    sender.outcomes = [DeliveryDeferred("ConnectionRefusedError")]
    job = delivery(journal, attempts=3)
    assert await deliver(job) == "deferred (ConnectionRefusedError)"
    how, seconds = job.settled
    assert how == "nak" and 2 <= seconds <= 4  # third attempt: a 4 s step, half of it jitter
    assert ledger.counts == {"retries": 1} and not ledger.sent


async def test_the_last_attempt_dead_letters_instead(deliver, journal, sender, ledger):
    sender.outcomes = [DeliveryDeferred("data 451")]
    job = delivery(journal, attempts=5)
    assert await deliver(job) == "dead_lettered"
    assert job.settled == ("dead letter", "attempts exhausted: data 451", "a" * 22)
    assert ledger.counts == {"dead_lettered": 1}


async def test_a_refused_mail_is_dead_lettered_at_once(deliver, journal, sender, ledger):
    sender.outcomes = [DeliveryRefused("recipient 550")]
    job = delivery(journal)
    assert await deliver(job) == "dead_lettered"
    assert job.settled == ("dead letter", "refused: recipient 550", "a" * 22)
    assert not ledger.sent


async def test_an_unreadable_message_is_dead_lettered_without_an_id(deliver, journal, ledger):
    job = FakeDelivery(journal, "mail.password_reset", b"{oops")
    assert await deliver(job) == "dead_lettered"
    assert job.settled == ("dead letter", "unreadable", None)
    assert ledger.counts == {"dead_lettered": 1}


async def test_a_failed_ledger_record_still_acks_what_the_server_accepted(deliver, journal, ledger):
    ledger.fail_writes = True
    job = delivery(journal)
    assert await deliver(job) == "sent"
    assert job.settled == ("ack",)  # a nak would send it twice


async def test_an_unreadable_ledger_leaves_the_delivery_unsettled(deliver, journal, ledger):
    ledger.fail_reads = True
    job = delivery(journal)
    with pytest.raises(LedgerUnavailable):
        await deliver(job)
    assert job.settled is None and journal == []  # the consumer hands it back


async def test_the_same_request_in_hand_twice_is_sent_once(deliver, journal, sender, ledger):
    sender.gate = asyncio.Event()
    mail = reset_request()
    first = asyncio.create_task(deliver(delivery(journal, mail)))
    second = asyncio.create_task(deliver(delivery(journal, mail, attempts=2)))
    await asyncio.sleep(0.01)
    sender.gate.set()
    assert sorted(await asyncio.gather(first, second)) == ["duplicate_skipped", "sent"]
    assert [entry[0] for entry in journal].count("smtp accepted") == 1


async def test_a_request_another_mailer_holds_is_handed_back_unsent(deliver, journal, ledger):
    mail = reset_request()
    ledger.held_elsewhere.add(mail.request_id)
    job = delivery(journal, mail)
    assert await deliver(job) == "held elsewhere"
    assert job.settled is not None and job.settled[0] == "nak"
    assert [entry[0] for entry in journal] == ["nak"] and not ledger.sent
    assert "retries" not in ledger.counts


async def test_different_requests_are_not_held_up_by_each_other(deliver, journal, sender):
    sender.gate = asyncio.Event()
    jobs = [delivery(journal, reset_request(str(n) * 20)) for n in range(3)]
    tasks = [asyncio.create_task(deliver(job)) for job in jobs]
    await asyncio.sleep(0.01)
    sender.gate.set()
    assert await asyncio.gather(*tasks) == ["sent"] * 3
