"""Sessions in PostgreSQL: the twin of sqlite/sessions.py."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import AsyncConnection, errors

from ...domain.accounts import Account
from ...domain.operators import Operator
from ...domain.scopes import parse_scopes, scope_claim
from ...domain.sessions import Session
from ...flows.ports import SessionNotLive, Tally, UnknownReference
from ..sqlite.accounts import COLUMNS as ACCOUNT_COLUMNS
from ..sqlite.operators import COLUMNS as OPERATOR_COLUMNS
from ..sqlite.sessions import COLUMNS
from .accounts import account_from
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork

_WITH_ACCOUNT = (
    f"SELECT {columns(COLUMNS, 's')}, {columns(ACCOUNT_COLUMNS, 'a')} "
    "FROM sessions s JOIN accounts a ON a.account_id = s.account_id "
    "WHERE s.session_id = %s"
)
_WITH_OPERATOR = (
    f"SELECT {columns(COLUMNS, 's')}, {columns(OPERATOR_COLUMNS, 'o')} "
    "FROM sessions s JOIN operators o ON o.operator_id = s.operator_id "
    "WHERE s.session_id = %s"
)


def session_from(row: tuple) -> Session:
    values = dict(zip(COLUMNS, row, strict=True))
    return Session(
        **{name: values[name] for name in COLUMNS if name not in ("amr", "scopes")},
        amr=tuple(values["amr"].split()),
        scopes=parse_scopes(values["scopes"]) or frozenset(),
    )


class PgSessions:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow

    async def with_account(self, session_id: str) -> tuple[Session, Account] | None:
        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(_WITH_ACCOUNT, (session_id,))).fetchall()

        rows = await self._uow.db.read(run)
        if not rows:
            return None
        row = tuple(rows[0])
        account = self._uow.accounts.loaded(account_from(row[len(COLUMNS) :]))
        return session_from(row[: len(COLUMNS)]), account

    async def with_operator(self, session_id: str) -> tuple[Session, Operator] | None:
        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(_WITH_OPERATOR, (session_id,))).fetchall()

        rows = await self._uow.db.read(run)
        if not rows:
            return None
        row = tuple(rows[0])
        operators = self._uow.operators
        operator = operators.loaded(operators.operator_from(row[len(COLUMNS) :]))
        return session_from(row[: len(COLUMNS)]), operator

    def add(self, session: Session) -> None:
        row = (
            session.session_id,
            session.account_id,
            session.operator_id,
            session.device_id,
            session.method,
            " ".join(session.amr),
            scope_claim(session.scopes),
            session.issued_at,
            session.expires_at,
            session.revoked_at,
        )

        async def insert(conn: AsyncConnection) -> None:
            try:
                await conn.execute(
                    f"INSERT INTO sessions ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    row,
                )
            except errors.ForeignKeyViolation:
                raise UnknownReference() from None

        self._uow.stage(insert)

    def revoke(self, session_id: str, now: datetime) -> None:
        async def run(conn: AsyncConnection) -> None:
            cursor = await conn.execute(
                "UPDATE sessions SET revoked_at = %s WHERE session_id = %s AND revoked_at IS NULL",
                (now, session_id),
            )
            if matched(cursor) != 1:
                raise SessionNotLive()

        self._uow.stage(run)

    def revoke_all(self, account_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = %s WHERE account_id = %s "
            "AND session_id IS DISTINCT FROM %s::text AND revoked_at IS NULL",
            (now, account_id, keep),
        )

    def revoke_device(self, device_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = %s WHERE device_id = %s AND revoked_at IS NULL",
            (now, device_id),
        )

    def revoke_operator(self, operator_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = %s WHERE operator_id = %s "
            "AND session_id IS DISTINCT FROM %s::text AND revoked_at IS NULL",
            (now, operator_id, keep),
        )

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM sessions WHERE expires_at < %s", (expired_before,)
        )
