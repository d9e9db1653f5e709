"""The send ledger on PostgreSQL, shared by every mailer replica: the twin of ledger.py.

A request in hand is held with `FOR UPDATE SKIP LOCKED` on its row in `in_hand`, in a
transaction that lasts as long as the delivery: another replica given the same request (a
redelivery while a slow send still runs) skips it instead of sending again, and a replica
that dies lets go with its connection, so nothing waits for a lease to run out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from cardreg_shared.errors import ServiceFailure
from cardreg_shared.postgres import PgDatabase
from psycopg import AsyncConnection, Error

from ..flows.ports import Counter, LedgerUnavailable
from .ledger import COUNTERS

MIGRATIONS: tuple[str, ...] = (
    # 1: the send ledger and the counters, as mailer.db's version 1, and the requests in hand.
    """
    CREATE TABLE sent (
        request_id text PRIMARY KEY,
        kind       text NOT NULL,
        message_id text NOT NULL,
        sent_at    timestamptz NOT NULL
    );
    CREATE INDEX sent_by_time ON sent (sent_at);
    CREATE TABLE counters (
        name  text PRIMARY KEY,
        value bigint NOT NULL CHECK (value >= 0)
    );
    INSERT INTO counters (name, value)
        VALUES ('sent', 0), ('duplicates_skipped', 0), ('retries', 0), ('dead_lettered', 0);
    CREATE TABLE in_hand (
        request_id text PRIMARY KEY,
        since      timestamptz NOT NULL DEFAULT now()
    );
    """,
)

# A send is recorded and counted in one statement; a second record of it counts nothing.
_RECORD_SENT = """
WITH recorded AS (
    INSERT INTO sent (request_id, kind, message_id, sent_at) VALUES (%s, %s, %s, %s)
    ON CONFLICT (request_id) DO NOTHING RETURNING 1
)
UPDATE counters SET value = value + (SELECT count(*) FROM recorded) WHERE name = 'sent'
"""


class PgLedger:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10) -> PgLedger:
        return cls(await PgDatabase.open(url, MIGRATIONS, name="mailer", max_size=max_connections))

    async def close(self) -> None:
        await self._db.close()

    async def is_sent(self, request_id: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM sent WHERE request_id = %s", (request_id,)))

    async def record_sent(self, request_id: str, kind: str, message_id: str) -> None:
        await self._write(_RECORD_SENT, (request_id, kind, message_id, datetime.now(UTC)))

    async def count(self, counter: Counter) -> None:
        await self._write("UPDATE counters SET value = value + 1 WHERE name = %s", (counter,))

    async def counters(self) -> dict[str, int]:
        values = dict(await self._rows("SELECT name, value FROM counters", ()))
        return {name: values.get(name, 0) for name in COUNTERS}

    async def prune(self, older_than: timedelta) -> int:
        cutoff = datetime.now(UTC) - older_than

        async def run(conn: AsyncConnection) -> int:
            # Rows in hand left by a rollback are free to go as well (nobody holds them).
            await conn.execute(
                "DELETE FROM in_hand WHERE request_id IN (SELECT request_id FROM in_hand "
                "WHERE since < %s FOR UPDATE SKIP LOCKED)",
                (cutoff,),
            )
            return (await conn.execute("DELETE FROM sent WHERE sent_at < %s", (cutoff,))).rowcount

        return await self._db.write(run)

    @asynccontextmanager
    async def hold(self, request_id: str) -> AsyncIterator[bool]:
        """Hold the request for the delivery's length; False when another mailer holds it."""
        await self._write(
            "INSERT INTO in_hand (request_id) VALUES (%s) ON CONFLICT DO NOTHING", (request_id,)
        )
        async with self._db.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT 1 FROM in_hand WHERE request_id = %s FOR UPDATE SKIP LOCKED",
                (request_id,),
            )
            if await cursor.fetchone() is None:
                yield False
            else:
                yield True
                await conn.execute("DELETE FROM in_hand WHERE request_id = %s", (request_id,))

    async def _rows(self, sql: str, params: tuple) -> list[tuple]:
        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, params)).fetchall()

        try:
            return await self._db.read(run)
        except (Error, ServiceFailure) as exc:
            raise LedgerUnavailable(type(exc).__name__) from exc

    async def _write(self, sql: str, params: tuple) -> None:
        async def run(conn: AsyncConnection) -> None:
            await conn.execute(sql, params)

        try:
            await self._db.read(run)  # one statement: autocommit is its transaction
        except (Error, ServiceFailure) as exc:
            raise LedgerUnavailable(type(exc).__name__) from exc
