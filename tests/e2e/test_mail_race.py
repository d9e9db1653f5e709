"""Two outbox relays and two mailers racing over the same rows, end to end to SMTP: mail rows
land in the registry's PostgreSQL outbox in one transaction while `cardreg up --replicas 2`
runs, both registry replicas' relays claim from them at once (`FOR UPDATE SKIP LOCKED`), both
mailers take from the one MAIL stream, and the mail catcher receives each mail exactly once."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from cardreg_shared.models.mail import PasswordChangedMail
from cardreg_shared.subjects import MAIL_PASSWORD_CHANGED

from .system import Mailbox, RunningSystem

ROWS = 400
ROUNDS = 3


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    running.start(extra=("--replicas", "2", "--database-url", postgres_database_url))
    try:
        yield running
    finally:
        running.stop()


def metrics_urls(system: RunningSystem, service: str) -> list[str]:
    """The /metrics of each replica of `service`, as `cardreg up` announced them."""
    return re.findall(rf"{service}-\d+ (http://127\.0\.0\.1:\d+/metrics)", system.log.read_text())


def counter(url: str, name: str) -> float:
    text = httpx.get(url, timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


@pytest.mark.timeout(600)
def test_two_relays_and_two_mailers_send_each_mail_once(system, postgres_database_url):
    relays = metrics_urls(system, "registry")
    mailers = metrics_urls(system, "mailer")
    assert len(relays) == len(mailers) == 2
    published = [counter(url, "cardreg_outbox_published_total") for url in relays]
    sent = [counter(url, 'cardreg_mails_total{outcome="sent"}') for url in mailers]

    mailbox = Mailbox(system.data_dir / "mail")
    # Both relays and both mailers must take part: the rows raced over, not left to one. The
    # relays find rows committed from outside by their polls, so one of them may, by the
    # phase of its poll, publish a whole round alone: then another round, up to ROUNDS.
    for done in range(1, ROUNDS + 1):
        race_once(postgres_database_url, mailbox, done)
        more_published = [
            counter(url, "cardreg_outbox_published_total") - p
            for url, p in zip(relays, published, strict=True)
        ]
        more_sent = [
            counter(url, 'cardreg_mails_total{outcome="sent"}') - s
            for url, s in zip(mailers, sent, strict=True)
        ]
        print(f"round {done}: published per relay {more_published}, sent per mailer {more_sent}")
        assert sum(more_published) == sum(more_sent) == ROWS * done
        if min(more_published) > 0 and min(more_sent) > 0:
            break
    assert min(more_published) > 0 and min(more_sent) > 0, (more_published, more_sent)


def race_once(database_url: str, mailbox: Mailbox, round_no: int) -> None:
    """ROWS mail rows in one commit; each must reach the catcher exactly once."""
    now = datetime.now(UTC)
    mails = [
        PasswordChangedMail(
            request_id=f"race-{round_no}-{n:04d}-{now:%H%M%S%f}",
            to=f"racer{n}@example.com",
            requested_at=now,
            how="change",
        )
        for n in range(ROWS)
    ]
    # One commit: every row at once.
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO registry.outbox (subject, msg_id, payload, created_at)"
            " VALUES (%s, %s, %s, %s)",
            [(MAIL_PASSWORD_CHANGED.name, m.request_id, m.model_dump_json(), now) for m in mails],
        )

    expected = {f"<{m.request_id}@cardreg.localhost>" for m in mails}

    def arrived() -> Counter[str]:
        return Counter(
            str(m["Message-ID"]) for m in mailbox.all() if str(m["Message-ID"]) in expected
        )

    deadline = time.monotonic() + 120
    while len(arrived()) < ROWS:
        assert time.monotonic() < deadline, f"{len(arrived())} of {ROWS} mails arrived"
        time.sleep(0.5)
    time.sleep(2.0)  # a second copy would have arrived by now
    copies = arrived()
    assert set(copies) == expected
    assert set(copies.values()) == {1}
