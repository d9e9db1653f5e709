"""Account events in sqlite, for the holder's activity and a counter's audit view: each event
is written with the change that caused it (by the unit of work's commit, like its outbox row),
read newest first by row id, and pruned after the retention."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from cardreg_shared.models.events import AccountEvent

from ...flows.ports import Tally
from .rows import text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork


def insert_event(conn: sqlite3.Connection, event: AccountEvent) -> None:
    conn.execute(
        "INSERT INTO account_events (event_id, account_id, payload, occurred_at) "
        "VALUES (?, ?, ?, ?)",
        (event.event_id, event.account_id, event.model_dump_json(), text(event.occurred_at)),
    )


class SqliteActivity:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def page(
        self, account_id: str, *, before: int | None, limit: int
    ) -> list[tuple[int, AccountEvent]]:
        sql = (
            "SELECT id, payload FROM account_events WHERE account_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?"
        )
        params = (account_id, before if before is not None else 2**62, limit)
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [(row_id, AccountEvent.model_validate_json(payload)) for row_id, payload in rows]

    def prune(self, occurred_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM account_events WHERE occurred_at < ?", (text(occurred_before),)
        )
