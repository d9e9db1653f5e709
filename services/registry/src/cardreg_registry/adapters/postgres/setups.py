"""Setup codes in PostgreSQL: the twin of sqlite/setups.py. Issuing locks the account's row
first (`FOR UPDATE`), so two replicas issuing for one account at once void one after the
other and one code stays live; consuming is a guarded update: of two completions racing on
different replicas the second waits for the first's row lock, then matches nothing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection

from ...domain.setups import Setup
from ...flows.ports import SetupSpent, Tally
from ..sqlite.setups import COLUMNS
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork


class PgSetups:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, code_hash: str) -> Setup | None:
        sql = f"SELECT {columns(COLUMNS)} FROM setups WHERE code_hash = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (code_hash,))).fetchall()

        rows = await self._uow.db.read(run)
        return Setup(*rows[0]) if rows else None

    def issue(self, setup: Setup) -> None:
        row = (setup.code_hash, setup.account_id, setup.created_at, setup.expires_at, None, None)

        async def run(conn: AsyncConnection) -> None:
            await conn.execute(
                "SELECT 1 FROM accounts WHERE account_id = %s FOR UPDATE", (setup.account_id,)
            )
            await conn.execute(
                "UPDATE setups SET voided_at = %s "
                "WHERE account_id = %s AND used_at IS NULL AND voided_at IS NULL",
                (setup.created_at, setup.account_id),
            )
            await conn.execute(
                f"INSERT INTO setups ({columns(COLUMNS)}) VALUES ({placeholders(len(COLUMNS))})",
                row,
            )

        self._uow.stage(run)

    def consume(self, code_hash: str, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE setups SET used_at = %(now)s WHERE code_hash = %(hash)s "
                "AND used_at IS NULL AND voided_at IS NULL AND expires_at > %(now)s",
                {"now": now, "hash": code_hash},
            )
            if matched(cursor) != 1:
                raise SetupSpent()

        self._uow.stage(run)

    def void_all(self, account_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE setups SET voided_at = %s "
            "WHERE account_id = %s AND used_at IS NULL AND voided_at IS NULL",
            (now, account_id),
        )
