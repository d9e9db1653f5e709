"""Accepted reset requests in sqlite (domain/reset_requests.py): stored sealed by the commit
that accepts them, claimed in one statement, deleted by the commit that ends their follow-up.

`not_before` is both the lease and the retry time: a claim moves it forward by the lease, a
postponement sets it to the retry, and whatever holds a row's time of now or earlier is due.
`attempts` counts the claims and guards the writes that end or postpone an attempt.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...domain.reset_requests import QueuedReset, sealing_context
from ...flows.ports import Conflict
from ..registry_secret import SecretUnusable
from .rows import moment, text

if TYPE_CHECKING:
    from .database import SqliteDatabase
    from .keys import Sealer
    from .unit_of_work import SqliteUnitOfWork

log = logging.getLogger("cardreg.registry.password_reset")

_INSERT = (
    "INSERT INTO reset_requests (request_id, payload, created_at, not_before, correlation_id)"
    " VALUES (?, ?, ?, ?, ?)"
)
_CLAIM = (
    "UPDATE reset_requests SET not_before = ?, attempts = attempts + 1 WHERE id IN ("
    " SELECT id FROM reset_requests WHERE not_before <= ? ORDER BY id LIMIT ?)"
    " RETURNING id, request_id, payload, created_at, attempts, correlation_id"
)


def readable(
    rows: Iterable[tuple], read: Callable[[tuple], QueuedReset]
) -> tuple[list[QueuedReset], list[int]]:
    """The claimed rows that still open and parse, and the ids of those that do not (written
    by an incompatible version, say): those could never be worked off and would come back at
    every lease, so they are dropped, and logged."""
    queued: list[QueuedReset] = []
    unreadable: list[int] = []
    for row in rows:
        try:
            queued.append(read(row))
        except (SecretUnusable, ValueError, KeyError, TypeError) as exc:
            log.error("a stored reset request does not read (%s); dropped", type(exc).__name__)
            unreadable.append(row[0])
    return queued, unreadable


class SqliteResetRequests:
    """Inside a unit of work: rows to insert or delete at commit."""

    def __init__(self, uow: SqliteUnitOfWork, sealer: Sealer, feed: SqliteResetRequestFeed) -> None:
        self._uow = uow
        self._sealer = sealer
        self._feed = feed

    def add(self, queued: QueuedReset) -> None:
        sealed = self._sealer.seal(queued.payload(), sealing_context(queued.request_id))
        created = text(queued.created_at)
        row = (queued.request_id, sealed, created, created, queued.correlation_id)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(_INSERT, row)

        self._uow.stage(run)
        self._uow.after_commit(self._feed.written.set)

    def finish(self, queued: QueuedReset) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "DELETE FROM reset_requests WHERE request_id = ? AND attempts = ?",
                (queued.request_id, queued.attempts),
            )
            if cursor.rowcount != 1:
                raise Conflict()  # taken over by a later claim (or already ended)

        self._uow.stage(run)


class SqliteResetRequestFeed:
    def __init__(self, db: SqliteDatabase, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        self.written = asyncio.Event()

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> list[QueuedReset]:
        params = (text(now + lease), text(now), limit)
        rows = await self._db.write(lambda conn: conn.execute(_CLAIM, params).fetchall())
        queued, unreadable = readable(sorted(rows), self._queued)  # RETURNING has no order
        if unreadable:
            await self._db.write(
                lambda conn: conn.executemany(
                    "DELETE FROM reset_requests WHERE id = ?", [(id_,) for id_ in unreadable]
                )
            )
        return queued

    async def postpone(self, queued: QueuedReset, until: datetime) -> None:
        params = (text(until), queued.request_id, queued.attempts)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE reset_requests SET not_before = ? WHERE request_id = ? AND attempts = ?",
                params,
            )

        await self._db.write(run)

    async def pending(self) -> int:
        rows = await self._db.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM reset_requests").fetchall()
        )
        return rows[0][0]

    def _queued(self, row: tuple) -> QueuedReset:
        _, request_id, sealed, created_at, attempts, correlation_id = row
        payload = self._sealer.unseal(sealed, sealing_context(request_id))
        return QueuedReset.from_row(
            request_id, payload, moment(created_at), attempts, correlation_id
        )
