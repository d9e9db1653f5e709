"""Accepted reset requests in PostgreSQL: the twin of sqlite/reset_requests.py. Replicas claim
with `FOR UPDATE SKIP LOCKED`: claiming at the same moment they take different rows, and none
waits for another."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psycopg import AsyncConnection

from ...domain.reset_requests import QueuedReset, sealing_context
from ...flows.ports import Conflict
from ..sqlite.reset_requests import readable

if TYPE_CHECKING:
    from cardreg_shared.postgres import PgDatabase

    from ..sqlite.keys import Sealer
    from .unit_of_work import PgUnitOfWork

_INSERT = (
    "INSERT INTO reset_requests (request_id, payload, created_at, not_before, correlation_id)"
    " VALUES (%s, %s, %s, %s, %s)"
)
_CLAIM = (
    "UPDATE reset_requests SET not_before = %(until)s, attempts = attempts + 1 WHERE id IN ("
    " SELECT id FROM reset_requests WHERE not_before <= %(now)s"
    " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
    " RETURNING id, request_id, payload, created_at, attempts, correlation_id"
)


class PgResetRequests:
    """Inside a unit of work: rows to insert or delete at commit."""

    def __init__(self, uow: PgUnitOfWork, sealer: Sealer, feed: PgResetRequestFeed) -> None:
        self._uow = uow
        self._sealer = sealer
        self._feed = feed

    def add(self, queued: QueuedReset) -> None:
        sealed = self._sealer.seal(queued.payload(), sealing_context(queued.request_id))
        row = (queued.request_id, sealed, queued.created_at, queued.created_at)

        async def run(conn: AsyncConnection) -> None:
            await conn.execute(_INSERT, (*row, queued.correlation_id))

        self._uow.stage(run)
        self._uow.after_commit(self._feed.written.set)

    def finish(self, queued: QueuedReset) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "DELETE FROM reset_requests WHERE request_id = %s AND attempts = %s",
                (queued.request_id, queued.attempts),
            )
            if cursor.rowcount != 1:
                raise Conflict()  # taken over by a later claim (or already ended)

        self._uow.stage(run)


class PgResetRequestFeed:
    def __init__(self, db: PgDatabase, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        # Set after every commit of this process that stored a request; other replicas'
        # requests are found by the follow-ups' poll.
        self.written = asyncio.Event()

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[QueuedReset]:
        params = {"until": now + lease, "now": now, "limit": limit}

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(_CLAIM, params)).fetchall()

        rows = sorted(await self._db.write(run))  # RETURNING comes in no set order
        queued, unreadable = readable(rows, self._queued)
        if unreadable:

            async def drop(conn: AsyncConnection) -> None:
                await conn.execute("DELETE FROM reset_requests WHERE id = ANY(%s)", (unreadable,))

            await self._db.write(drop)
        return queued

    async def postpone(self, queued: QueuedReset, until: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            await conn.execute(
                "UPDATE reset_requests SET not_before = %s WHERE request_id = %s AND attempts = %s",
                (until, queued.request_id, queued.attempts),
            )

        await self._db.write(run)

    async def pending(self) -> int:
        async def run(conn: AsyncConnection) -> int:
            row = await (await conn.execute("SELECT count(*) FROM reset_requests")).fetchone()
            return row[0] if row else 0

        return await self._db.read(run)

    def _queued(self, row: tuple) -> QueuedReset:
        _, request_id, sealed, created_at, attempts, correlation_id = row
        payload = self._sealer.unseal(bytes(sealed), sealing_context(request_id))
        return QueuedReset.from_row(request_id, payload, created_at, attempts, correlation_id)
