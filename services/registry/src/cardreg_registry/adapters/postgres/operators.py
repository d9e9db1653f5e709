"""Operators in PostgreSQL: the twin of sqlite/operators.py. Every save is a version-guarded
update; of two replicas saving one operator at once (two logins racing with one TOTP code)
the second waits for the first's row lock, then finds the version moved and changes nothing
(`Conflict`), so a code's step is used up once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import AsyncConnection, errors

from ...domain.operators import DuplicateOperator, Operator
from ..sqlite.keys import Sealer
from ..sqlite.operators import _CHANGEABLE, COLUMNS, _context
from .accounts import expect_one
from .rows import columns, placeholders

if TYPE_CHECKING:
    from .unit_of_work import PgUnitOfWork


class PgOperators:
    def __init__(self, uow: PgUnitOfWork, sealer: Sealer) -> None:
        self._uow = uow
        self._sealer = sealer

    async def by_username(self, username: str) -> Operator | None:
        return await self._one("username", username)

    async def by_id(self, operator_id: str) -> Operator | None:
        return await self._one("operator_id", operator_id)

    async def all(self) -> list[Operator]:
        sql = f"SELECT {columns(COLUMNS)} FROM operators ORDER BY username"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql)).fetchall()

        rows = await self._uow.db.read(run)
        return [self.loaded(self.operator_from(tuple(row))) for row in rows]

    def add(self, operator: Operator) -> None:
        row = self._row(operator)

        async def insert(conn: AsyncConnection) -> None:
            try:
                await conn.execute(
                    f"INSERT INTO operators ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    tuple(row[name] for name in COLUMNS),
                )
            except errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "operators_username_key":
                    raise DuplicateOperator() from None
                raise

        self._uow.stage(insert, operator)

    def save(self, operator: Operator) -> None:
        row = self._row(operator)
        assignments = ", ".join(f"{name} = %s" for name in _CHANGEABLE)
        sql = (
            f"UPDATE operators SET {assignments}, version = version + 1 "
            "WHERE operator_id = %s AND version = %s"
        )
        params = (*(row[name] for name in _CHANGEABLE), operator.operator_id, operator.version)
        self._uow.stage(expect_one(sql, params), operator)

        def saved() -> None:
            operator.version += 1

        self._uow.after_commit(saved)

    def loaded(self, operator: Operator) -> Operator:
        """Track an operator read here (or joined by another repository)."""
        self._uow.track(operator)
        return operator

    async def _one(self, column: str, value: str) -> Operator | None:
        sql = f"SELECT {columns(COLUMNS)} FROM operators WHERE {column} = %s"

        async def run(conn: AsyncConnection) -> list[tuple]:
            return await (await conn.execute(sql, (value,))).fetchall()

        rows = await self._uow.db.read(run)
        return self.loaded(self.operator_from(tuple(rows[0]))) if rows else None

    def _row(self, operator: Operator) -> dict[str, object]:
        return {
            "operator_id": operator.operator_id,
            "username": operator.username,
            "role": operator.role,
            "unit_id": operator.unit_id,
            "status": operator.status,
            "password_hash": operator.password_hash,
            "password_change_required": operator.password_change_required,
            "totp_secret": self._sealer.seal(
                operator.totp_secret.encode("ascii"), _context(operator.operator_id)
            ),
            "totp_last_step": operator.totp_last_step,
            "failed_logins": operator.failed_logins,
            "locked_until": operator.locked_until,
            "created_at": operator.created_at,
            "updated_at": operator.updated_at,
            "version": operator.version,
        }

    def operator_from(self, row: tuple) -> Operator:
        values = dict(zip(COLUMNS, row, strict=True))
        secret = self._sealer.unseal(bytes(values["totp_secret"]), _context(values["operator_id"]))
        return Operator(
            **{name: values[name] for name in COLUMNS if name != "totp_secret"},
            totp_secret=secret.decode("ascii"),
        )
