"""Account events in PostgreSQL, for the holder's activity and a counter's audit view: the
twin of sqlite/activity.py. Each event is written by the unit of work's commit, in the same
transaction as its outbox row; read newest first by row id; pruned after the retention."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cardreg_shared.models.events import AccountEvent
from psycopg import AsyncConnection

from ...flows.ports import Tally

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork

_PAGE = (
    "SELECT id, payload FROM account_events WHERE account_id = %s AND id < %s "
    "ORDER BY id DESC LIMIT %s"
)


async def insert_event(conn: AsyncConnection, event: AccountEvent) -> None:
    await conn.execute(
        "INSERT INTO account_events (event_id, account_id, payload, occurred_at) "
        "VALUES (%s, %s, %s, %s)",
        (event.event_id, event.account_id, event.model_dump_json(), event.occurred_at),
    )


class PgActivity:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def page(
        self, account_id: str, *, before: int | None, limit: int
    ) -> list[tuple[int, AccountEvent]]:
        params = (account_id, before if before is not None else 2**62, limit)

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(_PAGE, params)).fetchall()

        rows = await self._uow.db.read(run)
        return [(row_id, AccountEvent.model_validate_json(payload)) for row_id, payload in rows]

    def prune(self, occurred_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM account_events WHERE occurred_at < %s", (occurred_before,)
        )
