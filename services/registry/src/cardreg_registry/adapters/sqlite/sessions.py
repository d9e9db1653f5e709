"""Sessions in sqlite: each names its principal (an account or an operator), method, amr, scopes and an
optional device; revocation is a guarded update."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from ...domain.accounts import Account
from ...domain.operators import Operator
from ...domain.scopes import parse_scopes, scope_claim
from ...domain.sessions import Session
from ...flows.ports import SessionNotLive, Tally, UnknownReference
from .accounts import COLUMNS as ACCOUNT_COLUMNS
from .accounts import account_from, matched
from .operators import COLUMNS as OPERATOR_COLUMNS
from .rows import columns, maybe_moment, maybe_text, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

COLUMNS = (
    "session_id",
    "account_id",
    "operator_id",
    "device_id",
    "method",
    "amr",
    "scopes",
    "issued_at",
    "expires_at",
    "revoked_at",
)


def session_from(row: tuple) -> Session:
    values = dict(zip(COLUMNS, row, strict=True))
    return Session(
        session_id=values["session_id"],
        account_id=values["account_id"],
        operator_id=values["operator_id"],
        device_id=values["device_id"],
        method=values["method"],
        amr=tuple(values["amr"].split()),
        scopes=parse_scopes(values["scopes"]) or frozenset(),
        issued_at=moment(values["issued_at"]),
        expires_at=moment(values["expires_at"]),
        revoked_at=maybe_moment(values["revoked_at"]),
    )


class SqliteSessions:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow

    async def with_account(self, session_id: str) -> tuple[Session, Account] | None:
        sql = (
            f"SELECT {columns(COLUMNS, 's')}, {columns(ACCOUNT_COLUMNS, 'a')} "
            "FROM sessions s JOIN accounts a ON a.account_id = s.account_id "
            "WHERE s.session_id = ?"
        )
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (session_id,)).fetchall())
        if not rows:
            return None
        row = tuple(rows[0])
        account = self._uow.accounts.loaded(account_from(row[len(COLUMNS) :]))
        return session_from(row[: len(COLUMNS)]), account

    async def with_operator(self, session_id: str) -> tuple[Session, Operator] | None:
        sql = (
            f"SELECT {columns(COLUMNS, 's')}, {columns(OPERATOR_COLUMNS, 'o')} "
            "FROM sessions s JOIN operators o ON o.operator_id = s.operator_id "
            "WHERE s.session_id = ?"
        )
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (session_id,)).fetchall())
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
            text(session.issued_at),
            text(session.expires_at),
            maybe_text(session.revoked_at),
        )

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO sessions ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                if "FOREIGN KEY" in str(exc):
                    raise UnknownReference() from None
                raise

        self._uow.stage(insert)

    def revoke(self, session_id: str, now: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE sessions SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
                (text(now), session_id),
            )
            if matched(cursor) != 1:
                raise SessionNotLive()

        self._uow.stage(run)

    def revoke_all(self, account_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = ? "
            "WHERE account_id = ? AND session_id IS NOT ? AND revoked_at IS NULL",
            (text(now), account_id, keep),
        )

    def revoke_device(self, device_id: str, now: datetime) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
            (text(now), device_id),
        )

    def revoke_operator(self, operator_id: str, now: datetime, *, keep: str | None = None) -> Tally:
        return self._uow.stage_counted(
            "UPDATE sessions SET revoked_at = ? "
            "WHERE operator_id = ? AND session_id IS NOT ? AND revoked_at IS NULL",
            (text(now), operator_id, keep),
        )

    def prune(self, expired_before: datetime) -> Tally:
        return self._uow.stage_counted(
            "DELETE FROM sessions WHERE expires_at < ?", (text(expired_before),)
        )
