"""The outbox in PostgreSQL: the twin of sqlite/outbox.py. A relay claims rows with
`FOR UPDATE SKIP LOCKED`: relays claiming at the same moment take different rows, none waits
for another, and no row is skipped (a locked row is only passed over until its claim is
committed, when it belongs to that relay's lease)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psycopg import AsyncConnection

from ...domain.outbox import OutboxMessage

if TYPE_CHECKING:
    from cardreg_shared.postgres import PgDatabase

    from .unit_of_work import PgUnitOfWork

_INSERT = (
    "INSERT INTO outbox (subject, msg_id, payload, created_at, correlation_id)"
    " VALUES (%s, %s, %s, %s, %s)"
)
_CLAIM = (
    "UPDATE outbox SET claimed_by = %(relay)s, claimed_until = %(until)s WHERE id IN ("
    " SELECT id FROM outbox WHERE published_at IS NULL"
    " AND (claimed_until IS NULL OR claimed_until < %(now)s OR claimed_by = %(relay)s)"
    " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
    " RETURNING id, subject, msg_id, payload, correlation_id"
)


async def insert_message(
    conn: AsyncConnection, message: OutboxMessage, created_at: datetime
) -> None:
    row = (message.subject, message.msg_id, message.payload, created_at)
    await conn.execute(_INSERT, (*row, message.correlation_id))


class PgOutbox:
    """The outbox inside a unit of work: rows to insert at commit."""

    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    def add(self, message: OutboxMessage, created_at: datetime) -> None:
        self._uow.stage_message(message, created_at)


class PgOutboxFeed:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        # Set after every commit of this process that queued a row; other replicas' rows are
        # found by the relay's poll.
        self.written = asyncio.Event()

    async def claim(
        self, relay: str, limit: int, now: datetime, lease: timedelta
    ) -> list[OutboxMessage]:
        params = {"relay": relay, "until": now + lease, "now": now, "limit": limit}

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(_CLAIM, params)).fetchall()

        rows = sorted(await self._db.write(run))  # RETURNING comes in no set order
        return [OutboxMessage(*row[1:]) for row in rows]

    async def published(self, msg_ids: list[str], now: datetime) -> None:
        """Keep subject and id for a while, drop the payload at once (a reset mail carries a
        live token, which must not sit in the database beside its hash)."""
        if not msg_ids:
            return

        async def run(conn: AsyncConnection) -> None:
            await conn.execute(
                "UPDATE outbox SET published_at = %s, payload = '', claimed_by = NULL, "
                "claimed_until = NULL WHERE msg_id = ANY(%s) AND published_at IS NULL",
                (now, msg_ids),
            )

        await self._db.write(run)

    async def pending(self) -> tuple[int, datetime | None]:
        """Rows not yet published, and when the oldest of them was written."""

        async def run(conn: AsyncConnection) -> tuple[int, datetime | None]:
            row = await (
                await conn.execute(
                    "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL"
                )
            ).fetchone()
            return (row[0], row[1]) if row else (0, None)

        return await self._db.read(run)

    async def prune(self, published_before: datetime) -> int:
        async def run(conn: AsyncConnection) -> int:
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE published_at < %s", (published_before,)
            )
            return cursor.rowcount

        return await self._db.write(run)
