"""Setup codes in sqlite: issuing voids the account's older ones; consuming is a guarded
update (of two concurrent completions exactly one wins)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from ...domain.setups import Setup
from ...flows.ports import SetupSpent, Tally
from .accounts import matched
from .rows import columns, maybe_moment, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

COLUMNS = ("code_hash", "account_id", "created_at", "expires_at", "used_at", "voided_at")


class SqliteSetups:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, code_hash: str) -> Setup | None:
        sql = f"SELECT {columns(COLUMNS)} FROM setups WHERE code_hash = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (code_hash,)).fetchall())
        if not rows:
            return None
        code_hash, account_id, created, expires, used, voided = rows[0]
        return Setup(
            code_hash, account_id, moment(created), moment(expires),
            maybe_moment(used), maybe_moment(voided),
        )  # fmt: skip

    def issue(self, setup: Setup) -> None:
        now = text(setup.created_at)
        row = (setup.code_hash, setup.account_id, now, text(setup.expires_at), None, None)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE setups SET voided_at = ? "
                "WHERE account_id = ? AND used_at IS NULL AND voided_at IS NULL",
                (now, setup.account_id),
            )
            conn.execute(
                f"INSERT INTO setups ({columns(COLUMNS)}) VALUES ({placeholders(len(COLUMNS))})",
                row,
            )

        self._uow.stage(run)

    def consume(self, code_hash: str, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE setups SET used_at = ?1 WHERE code_hash = ?2 AND used_at IS NULL "
                "AND voided_at IS NULL AND expires_at > ?1",
                (text(now), code_hash),
            )
            if matched(cursor) != 1:
                raise SetupSpent()

        self._uow.stage(run)

    def void_all(self, account_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE setups SET voided_at = ? "
            "WHERE account_id = ? AND used_at IS NULL AND voided_at IS NULL",
            (text(now), account_id),
        )
