"""Password-reset tokens in sqlite: issued under a limit counted inside the transaction,
consumed by a guarded update (of concurrent completions exactly one wins)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from ...domain.reset_tokens import ResetToken
from ...flows.ports import ResetLimitReached, ResetTokenSpent, Tally
from .accounts import matched
from .rows import columns, maybe_moment, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

COLUMNS = (
    "token_hash",
    "account_id",
    "pending_email",
    "created_at",
    "expires_at",
    "used_at",
    "voided_at",
)


def reset_token_from(row: tuple) -> ResetToken:
    return ResetToken(
        token_hash=row[0],
        account_id=row[1],
        pending_email=row[2],
        created_at=moment(row[3]),
        expires_at=moment(row[4]),
        used_at=maybe_moment(row[5]),
        voided_at=maybe_moment(row[6]),
    )


_RECENT = "SELECT COUNT(*) FROM reset_tokens WHERE account_id = ? AND created_at > ?"


class SqliteResetTokens:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def by_hash(self, token_hash: str) -> ResetToken | None:
        sql = f"SELECT {columns(COLUMNS)} FROM reset_tokens WHERE token_hash = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (token_hash,)).fetchall())
        return reset_token_from(rows[0]) if rows else None

    async def recent_count(self, account_id: str, since: datetime) -> int:
        params = (account_id, text(since))
        rows = await self._uow.db.read(lambda conn: conn.execute(_RECENT, params).fetchall())
        return rows[0][0]

    def issue(self, token: ResetToken, *, limit: int, since: datetime) -> None:
        now = text(token.created_at)
        row = (
            token.token_hash,
            token.account_id,
            token.pending_email,
            now,
            text(token.expires_at),
            None,
            None,
        )

        def run(conn: sqlite3.Connection) -> None:
            # The writer holds sqlite's write lock from BEGIN IMMEDIATE: nobody issues between
            # this count and the insert.
            ((recent,),) = conn.execute(_RECENT, (token.account_id, text(since))).fetchall()
            if recent >= limit:
                raise ResetLimitReached()
            conn.execute(
                "UPDATE reset_tokens SET voided_at = ? "
                "WHERE account_id = ? AND used_at IS NULL AND voided_at IS NULL",
                (now, token.account_id),
            )
            conn.execute(
                f"INSERT INTO reset_tokens ({columns(COLUMNS)}) "
                f"VALUES ({placeholders(len(COLUMNS))})",
                row,
            )

        self._uow.stage(run)

    def consume(self, token_hash: str, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE reset_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL "
                "AND voided_at IS NULL AND expires_at > ?1",
                (text(now), token_hash),
            )
            if matched(cursor) != 1:
                raise ResetTokenSpent()

        self._uow.stage(run)

    def void_all(self, account_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE reset_tokens SET voided_at = ? "
            "WHERE account_id = ? AND used_at IS NULL AND voided_at IS NULL",
            (text(now), account_id),
        )

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM reset_tokens WHERE expires_at < ?", (text(expired_before),)
        )
