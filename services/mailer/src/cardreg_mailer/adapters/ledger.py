"""The send ledger in one sqlite file (`mailer.db`, WAL, autocommit).

Each write is one statement, committed on its own: recording a send is a single INSERT (its
trigger bumps the `sent` counter in the same statement), so it reaches the file before the
message is acked. synchronous=NORMAL: a crashed process loses nothing committed; only a power
cut could lose the last records, and then only a republished request could be sent again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from ..flows.ports import Counter, LedgerUnavailable
from .migrations import migrate

_BUSY_TIMEOUT_MS = 5000
COUNTERS = ("sent", "duplicates_skipped", "retries", "dead_lettered")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class SqliteLedger:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, path: Path) -> SqliteLedger:
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            await conn.execute_fetchall("PRAGMA journal_mode = WAL")
            await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        await self._conn.close()

    async def is_sent(self, request_id: str) -> bool:
        try:
            rows = await self._conn.execute_fetchall(
                "SELECT 1 FROM sent WHERE request_id = ?", (request_id,)
            )
        except sqlite3.Error as exc:
            raise LedgerUnavailable(type(exc).__name__) from exc
        return bool(rows)

    async def record_sent(self, request_id: str, kind: str, message_id: str) -> None:
        # OR IGNORE: a resend after a crash finds its row already there; counted once.
        await self._write(
            "INSERT OR IGNORE INTO sent (request_id, kind, message_id, sent_at) "
            "VALUES (?, ?, ?, ?)",
            (request_id, kind, message_id, _now()),
        )

    async def count(self, counter: Counter) -> None:
        await self._write("UPDATE counters SET value = value + 1 WHERE name = ?", (counter,))

    async def counters(self) -> dict[str, int]:
        try:
            rows = await self._conn.execute_fetchall("SELECT name, value FROM counters")
        except sqlite3.Error as exc:
            raise LedgerUnavailable(type(exc).__name__) from exc
        values = dict(rows)
        return {name: values.get(name, 0) for name in COUNTERS}

    async def prune(self, older_than: timedelta) -> int:
        """Forget sends older than the retention; returns how many rows went."""
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="microseconds")
        cursor = await self._conn.execute("DELETE FROM sent WHERE sent_at < ?", (cutoff,))
        await cursor.close()
        return cursor.rowcount

    @asynccontextmanager
    async def hold(self, request_id: str) -> AsyncIterator[bool]:
        """One mailer per file: the flow's own claim in this process is all it takes."""
        yield True

    async def _write(self, sql: str, params: tuple) -> None:
        try:
            await self._conn.execute_fetchall(sql, params)
        except sqlite3.Error as exc:
            raise LedgerUnavailable(type(exc).__name__) from exc
