"""The send ledger on a real sqlite file: once per request, counters that survive a reopen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from cardreg_mailer.adapters.ledger import SqliteLedger
from cardreg_mailer.adapters.migrations import MIGRATIONS


async def test_a_request_is_recorded_and_counted_once(tmp_path):
    ledger = await SqliteLedger.open(tmp_path / "mailer.db")
    try:
        assert not await ledger.is_sent("req-1")
        await ledger.record_sent("req-1", "password_reset", "<req-1@x>")
        await ledger.record_sent("req-1", "password_reset", "<req-1@x>")  # a resend after a crash
        assert await ledger.is_sent("req-1")
        assert not await ledger.is_sent("req-2")
        assert (await ledger.counters())["sent"] == 1
    finally:
        await ledger.close()


async def test_counters_survive_a_reopen(tmp_path):
    path = tmp_path / "mailer.db"
    ledger = await SqliteLedger.open(path)
    await ledger.record_sent("req-1", "password_changed", "<req-1@x>")
    await ledger.count("retries")
    await ledger.count("retries")
    await ledger.count("duplicates_skipped")
    await ledger.count("dead_lettered")
    await ledger.close()

    ledger = await SqliteLedger.open(path)
    try:
        assert await ledger.counters() == {
            "sent": 1,
            "duplicates_skipped": 1,
            "retries": 2,
            "dead_lettered": 1,
        }
        assert await ledger.is_sent("req-1")
    finally:
        await ledger.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        # What the ledger keeps: ids and times, no address, no link.
        assert [c[1] for c in db.execute("PRAGMA table_info(sent)")] == [
            "request_id",
            "kind",
            "message_id",
            "sent_at",
        ]


async def test_prune_forgets_old_sends_but_not_the_counts(tmp_path):
    path = tmp_path / "mailer.db"
    ledger = await SqliteLedger.open(path)
    try:
        await ledger.record_sent("old", "password_reset", "<old@x>")
        await ledger.record_sent("new", "password_reset", "<new@x>")
        long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        with sqlite3.connect(path) as db:
            db.execute("UPDATE sent SET sent_at = ? WHERE request_id = 'old'", (long_ago,))
        assert await ledger.prune(timedelta(days=30)) == 1
        assert not await ledger.is_sent("old") and await ledger.is_sent("new")
        assert (await ledger.counters())["sent"] == 2
    finally:
        await ledger.close()
