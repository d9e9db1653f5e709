"""Accounts in sqlite: read at once, written at commit with a version guard."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING

from ...domain.accounts import Account, DuplicateAccount
from ...flows.ports import Conflict
from .rows import columns, maybe_moment, maybe_text, moment, placeholders

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

COLUMNS = (
    "account_id",
    "person_id",
    "kind",
    "id_no_masked",
    "bound_card_no",
    "password_hash",
    "email",
    "phone",
    "status",
    "channel",
    "failed_logins",
    "locked_until",
    "created_at",
    "updated_at",
    "language",
    "id_no_hash",
    "version",
    "consent_reference",
    "consent_given_on",
    "deactivation_reason",
    "deactivation_note",
)
# What a change may touch: identity of the row, its creation and its version stay.
_FIXED = {"account_id", "person_id", "created_at", "version"}
_CHANGEABLE = tuple(name for name in COLUMNS if name not in _FIXED)


def account_row(account: Account) -> dict[str, object]:
    values = {f.name: getattr(account, f.name) for f in fields(Account) if f.name in COLUMNS}
    for name in ("locked_until", "created_at", "updated_at"):
        values[name] = maybe_text(values[name])
    return values


def account_from(row: tuple) -> Account:
    values = dict(zip(COLUMNS, row, strict=True))
    values["locked_until"] = maybe_moment(values["locked_until"])
    values["created_at"] = moment(values["created_at"])
    values["updated_at"] = moment(values["updated_at"])
    return Account(**values)


class SqliteAccounts:
    def __init__(self, uow: SqliteUnitOfWork) -> None:
        self._uow = uow
        # As each account was read: a save writes only what changed since.
        self._as_read: dict[str, dict[str, object]] = {}

    async def by_person(self, person_id: str) -> Account | None:
        return await self._one("person_id", person_id)

    async def by_id(self, account_id: str) -> Account | None:
        return await self._one("account_id", account_id)

    async def by_id_number(self, id_no_hash: str) -> Account | None:
        return await self._one("id_no_hash", id_no_hash)

    def add(self, account: Account) -> None:
        row = account_row(account)

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO accounts ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    tuple(row[name] for name in COLUMNS),
                )
            except sqlite3.IntegrityError as exc:
                if "accounts.person_id" in str(exc):
                    raise DuplicateAccount() from None
                raise

        self._uow.stage(insert, account)
        self._uow.after_commit(lambda: self._as_read.__setitem__(account.account_id, row))

    def save(self, account: Account) -> None:
        row = account_row(account)
        before = self._as_read.get(account.account_id)
        changed = [n for n in _CHANGEABLE if before is None or before[n] != row[n]]
        guard = (account.account_id, account.version)
        if changed:
            assignments = ", ".join(f"{name} = ?" for name in changed)
            sql = (
                f"UPDATE accounts SET {assignments}, version = version + 1 "
                "WHERE account_id = ? AND version = ?"
            )
            params = (*(row[name] for name in changed), *guard)
        else:
            # Nothing to write, but what was decided still rests on this version.
            sql, params = "SELECT 1 FROM accounts WHERE account_id = ? AND version = ?", guard
        self._uow.stage(_expect_one(sql, params), account)
        if changed:
            self._uow.after_commit(lambda: self._saved(account, row))

    def remove(self, account: Account) -> None:
        sql = "DELETE FROM accounts WHERE account_id = ? AND version = ?"
        self._uow.stage(_expect_one(sql, (account.account_id, account.version)), account)

    async def _one(self, column: str, value: str) -> Account | None:
        sql = f"SELECT {columns(COLUMNS)} FROM accounts WHERE {column} = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (value,)).fetchall())
        return self.loaded(account_from(rows[0])) if rows else None

    def loaded(self, account: Account) -> Account:
        """Track an account read here (or joined by another repository)."""
        self._as_read[account.account_id] = account_row(account)
        self._uow.track(account)
        return account

    def _saved(self, account: Account, row: dict[str, object]) -> None:
        account.version += 1
        self._as_read[account.account_id] = {**row, "version": account.version}


def _expect_one(sql: str, params: tuple) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        if matched(conn.execute(sql, params)) != 1:
            raise Conflict()

    return run


def matched(cursor: sqlite3.Cursor) -> int:
    """Rows a statement selected, or changed."""
    return len(cursor.fetchall()) if cursor.description is not None else cursor.rowcount
