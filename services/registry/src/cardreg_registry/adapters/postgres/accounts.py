"""Accounts in PostgreSQL: read at once, written at commit with a version guard. An unchanged
account read by a unit of work is held with `FOR SHARE` until the commit, so a decision taken
on it cannot meet a change committed meanwhile (sqlite's single writer gives that for free)."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from psycopg import AsyncConnection, errors

from ...domain.accounts import Account, DuplicateAccount
from ...flows.ports import Conflict
from ..sqlite.accounts import _CHANGEABLE, COLUMNS
from .rows import columns, matched, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork, Write


def account_row(account: Account) -> dict[str, object]:
    return {f.name: getattr(account, f.name) for f in fields(Account) if f.name in COLUMNS}


def account_from(row: tuple) -> Account:
    return Account(**dict(zip(COLUMNS, row, strict=True)))


class PgAccounts:
    def __init__(self, uow: PgUnitOfWork) -> None:
        self._uow = uow
        self._as_read: dict[str, dict[str, object]] = {}

    async def by_person(self, person_id: str) -> Account | None:
        return await self._one("person_id", person_id)

    async def by_id(self, account_id: str) -> Account | None:
        return await self._one("account_id", account_id)

    async def by_id_number(self, id_no_hash: str) -> Account | None:
        return await self._one("id_no_hash", id_no_hash)

    def add(self, account: Account) -> None:
        row = account_row(account)

        async def insert(conn: AsyncConnection) -> None:
            try:
                await conn.execute(
                    f"INSERT INTO accounts ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    tuple(row[name] for name in COLUMNS),
                )
            except errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "accounts_person_id_key":
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
            assignments = ", ".join(f"{name} = %s" for name in changed)
            sql = (
                f"UPDATE accounts SET {assignments}, version = version + 1 "
                "WHERE account_id = %s AND version = %s"
            )
            params = (*(row[name] for name in changed), *guard)
        else:
            sql = "SELECT 1 FROM accounts WHERE account_id = %s AND version = %s FOR SHARE"
            params = guard
        self._uow.stage(expect_one(sql, params), account)
        if changed:
            self._uow.after_commit(lambda: self._saved(account, row))

    def remove(self, account: Account) -> None:
        sql = "DELETE FROM accounts WHERE account_id = %s AND version = %s"
        self._uow.stage(expect_one(sql, (account.account_id, account.version)), account)

    async def _one(self, column: str, value: str) -> Account | None:
        sql = f"SELECT {columns(COLUMNS)} FROM accounts WHERE {column} = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (value,))).fetchall()

        rows = await self._uow.db.read(run)
        return self.loaded(account_from(rows[0])) if rows else None

    def loaded(self, account: Account) -> Account:
        """Track an account read here (or joined by another repository)."""
        self._as_read[account.account_id] = account_row(account)
        self._uow.track(account)
        return account

    def _saved(self, account: Account, row: dict[str, object]) -> None:
        account.version += 1
        self._as_read[account.account_id] = {**row, "version": account.version}


def expect_one(sql: str, params: tuple) -> Write:
    async def run(conn: AsyncConnection) -> None:
        if matched(await conn.execute(sql, params)) != 1:
            raise Conflict()

    return run
