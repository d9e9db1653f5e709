"""The send ledger's behaviour on each backend (mailer.db and PostgreSQL), and what only a
shared ledger does: hold a request against the other mailers while one delivers it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from cardreg_mailer.adapters.ledger import SqliteLedger
from cardreg_mailer.adapters.postgres_ledger import PgLedger


@dataclass
class Backend:
    open: Callable[[], Awaitable[SqliteLedger | PgLedger]]
    backdate: Callable[[str, timedelta], None]  # move a send into the past


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Backend:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")

        def backdate_pg(request_id: str, age: timedelta) -> None:
            with psycopg.connect(url) as conn:
                conn.execute(
                    "UPDATE sent SET sent_at = %s WHERE request_id = %s",
                    (datetime.now(UTC) - age, request_id),
                )

        return Backend(lambda: PgLedger.open(url), backdate_pg)
    path = tmp_path / "mailer.db"

    def backdate_sqlite(request_id: str, age: timedelta) -> None:
        with sqlite3.connect(path) as db:
            then = (datetime.now(UTC) - age).isoformat()
            db.execute("UPDATE sent SET sent_at = ? WHERE request_id = ?", (then, request_id))

    return Backend(lambda: SqliteLedger.open(path), backdate_sqlite)


@pytest.fixture
async def ledger(backend: Backend) -> AsyncIterator[SqliteLedger | PgLedger]:
    opened = await backend.open()
    yield opened
    await opened.close()


async def test_a_request_is_recorded_and_counted_once(ledger):
    assert not await ledger.is_sent("req-1")
    await asyncio.gather(
        *(ledger.record_sent("req-1", "password_reset", "<req-1@x>") for _ in range(3))
    )
    assert await ledger.is_sent("req-1") and not await ledger.is_sent("req-2")
    assert (await ledger.counters())["sent"] == 1


async def test_counters_survive_a_reopen(backend: Backend):
    ledger = await backend.open()
    await ledger.record_sent("req-1", "password_changed", "<req-1@x>")
    for counter in ("retries", "retries", "duplicates_skipped", "dead_lettered"):
        await ledger.count(counter)
    await ledger.close()
    ledger = await backend.open()
    try:
        assert await ledger.counters() == {
            "sent": 1, "duplicates_skipped": 1, "retries": 2, "dead_lettered": 1,
        }  # fmt: skip
        assert await ledger.is_sent("req-1")
    finally:
        await ledger.close()


async def test_prune_forgets_old_sends_but_not_the_counts(backend: Backend, ledger):
    await ledger.record_sent("old", "password_reset", "<old@x>")
    await ledger.record_sent("new", "password_reset", "<new@x>")
    backend.backdate("old", timedelta(days=40))
    assert await ledger.prune(timedelta(days=30)) == 1
    assert not await ledger.is_sent("old") and await ledger.is_sent("new")
    assert (await ledger.counters())["sent"] == 2


async def test_a_shared_ledger_holds_a_request_for_one_mailer_at_a_time(postgres_url):
    first, second = await PgLedger.open(postgres_url), await PgLedger.open(postgres_url)
    try:
        async with first.hold("req-1") as held:
            assert held
            async with second.hold("req-1") as held_too, second.hold("req-2") as other:
                assert (held_too, other) == (False, True)
        # Let go at the end of the delivery, also when it failed.
        with pytest.raises(RuntimeError):
            async with second.hold("req-1") as held:
                assert held
                raise RuntimeError("the delivery failed")
        async with first.hold("req-1") as held:
            assert held
    finally:
        await first.close()
        await second.close()
