"""Password-reset tokens in PostgreSQL: the twin of sqlite/reset_tokens.py. The account's row
is locked (`FOR UPDATE`) before the recent ones are counted, so two replicas issuing at once
for one account count one after the other; consuming is a guarded update, as on sqlite."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection

from ...domain.reset_tokens import ResetToken
from ...flows.ports import ResetLimitReached, ResetTokenSpent, Tally
from ..sqlite.reset_tokens import COLUMNS
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork

_RECENT = "SELECT count(*) FROM reset_tokens WHERE account_id = %s AND created_at > %s"


def reset_token_from(row: tuple) -> ResetToken:
    return ResetToken(**dict(zip(COLUMNS, row, strict=True)))


class PgResetTokens:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, token_hash: str) -> ResetToken | None:
        sql = f"SELECT {columns(COLUMNS)} FROM reset_tokens WHERE token_hash = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (token_hash,))).fetchall()

        rows = await self._uow.db.read(run)
        return reset_token_from(rows[0]) if rows else None

    async def recent_count(self, account_id: str, since: datetime) -> int:
        async def run(conn: AsyncConnection) -> int:
            row = await (await conn.execute(_RECENT, (account_id, since))).fetchone()
            return row[0] if row else 0

        return await self._uow.db.read(run)

    def issue(self, token: ResetToken, *, limit: int, since: datetime) -> None:
        row = (
            token.token_hash,
            token.account_id,
            token.pending_email,
            token.created_at,
            token.expires_at,
            None,
            None,
        )

        async def run(conn: AsyncConnection) -> None:
            await conn.execute(
                "SELECT 1 FROM accounts WHERE account_id = %s FOR UPDATE", (token.account_id,)
            )
            counted = await (await conn.execute(_RECENT, (token.account_id, since))).fetchone()
            if counted is not None and counted[0] >= limit:
                raise ResetLimitReached()
            await conn.execute(
                "UPDATE reset_tokens SET voided_at = %s "
                "WHERE account_id = %s AND used_at IS NULL AND voided_at IS NULL",
                (token.created_at, token.account_id),
            )
            await conn.execute(
                f"INSERT INTO reset_tokens ({columns(COLUMNS)}) "
                f"VALUES ({placeholders(len(COLUMNS))})",
                row,
            )

        self._uow.stage(run)

    def consume(self, token_hash: str, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE reset_tokens SET used_at = %(now)s WHERE token_hash = %(hash)s "
                "AND used_at IS NULL AND voided_at IS NULL AND expires_at > %(now)s",
                {"now": now, "hash": token_hash},
            )
            if matched(cursor) != 1:
                raise ResetTokenSpent()

        self._uow.stage(run)

    def void_all(self, account_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE reset_tokens SET voided_at = %s "
            "WHERE account_id = %s AND used_at IS NULL AND voided_at IS NULL",
            (now, account_id),
        )

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM reset_tokens WHERE expires_at < %s", (expired_before,)
        )
