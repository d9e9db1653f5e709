"""The outbox in sqlite: rows written by units of work, claimed and marked by the relay.

A claim is a lease (`claimed_by`, `claimed_until`) taken in one statement, so replicas sharing
the database relay different rows; a relay that died leaves its claims to expire. The row's
integer id only orders the rows here: the relay and the stream know a row by its msg_id.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...domain.outbox import OutboxMessage
from .rows import maybe_moment, text

if TYPE_CHECKING:
    from .database import SqliteDatabase
    from .unit_of_work import SqliteUnitOfWork

_INSERT = (
    "INSERT INTO outbox (subject, msg_id, payload, created_at, correlation_id)"
    " VALUES (?, ?, ?, ?, ?)"
)


def insert_message(conn: sqlite3.Connection, message: OutboxMessage, created_at: datetime) -> None:
    row = (message.subject, message.msg_id, message.payload, text(created_at))
    conn.execute(_INSERT, (*row, message.correlation_id))


class SqliteOutbox:
    """The outbox inside a unit of work: rows to insert at commit."""

    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    def add(self, message: OutboxMessage, created_at: datetime) -> None:
        self._uow.stage_message(message, created_at)


class SqliteOutboxFeed:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        # Set after every commit that queued a row: wakes the relay.
        self.written = asyncio.Event()

    async def claim(
        self, relay: str, limit: int, now: datetime, lease: timedelta
    ) -> list[OutboxMessage]:
        params = (relay, text(now + lease), text(now), relay, limit)

        def run(conn: sqlite3.Connection) -> list[tuple]:
            return conn.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
                " SELECT id FROM outbox WHERE published_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?)"
                " ORDER BY id LIMIT ?) RETURNING id, subject, msg_id, payload, correlation_id",
                params,
            ).fetchall()

        rows = sorted(await self._db.write(run))  # RETURNING comes in no set order
        return [OutboxMessage(*row[1:]) for row in rows]

    async def published(self, msg_ids: list[str], now: datetime) -> None:
        """Keep subject and id for a while, drop the payload at once (a reset mail carries a
        live token, which must not sit in the database beside its hash)."""
        if not msg_ids:
            return
        params = [(text(now), msg_id) for msg_id in msg_ids]
        await self._db.write(
            lambda conn: conn.executemany(
                "UPDATE outbox SET published_at = ?, payload = '', claimed_by = NULL, "
                "claimed_until = NULL WHERE msg_id = ? AND published_at IS NULL",
                params,
            )
        )

    async def pending(self) -> tuple[int, datetime | None]:
        def run(conn: sqlite3.Connection) -> tuple[int, str | None]:
            count, oldest = conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL"
            ).fetchone()
            return count, oldest

        count, oldest = await self._db.read(run)
        return count, maybe_moment(oldest)

    async def prune(self, published_before: datetime) -> int:
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM outbox WHERE published_at < ?", (text(published_before),)
                ).rowcount
            )
        )
