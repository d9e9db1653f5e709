"""Operators in sqlite: read at once, written at commit with a version guard. The TOTP secret
is stored sealed under the registry secret (as the signing keys' private halves are), bound
to the operator's id."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from ...domain.operators import DuplicateOperator, Operator
from .accounts import _expect_one
from .keys import Sealer
from .rows import columns, maybe_moment, maybe_text, moment, placeholders, text

if TYPE_CHECKING:
    from .unit_of_work import SqliteUnitOfWork

COLUMNS = (
    "operator_id",
    "username",
    "role",
    "unit_id",
    "status",
    "password_hash",
    "password_change_required",
    "totp_secret",
    "totp_last_step",
    "failed_logins",
    "locked_until",
    "created_at",
    "updated_at",
    "version",
)
_CHANGEABLE = tuple(
    name for name in COLUMNS if name not in {"operator_id", "username", "created_at", "version"}
)


def _context(operator_id: str) -> str:
    return f"operator-totp:{operator_id}"


class SqliteOperators:
    def __init__(self, uow: SqliteUnitOfWork, sealer: Sealer) -> None:
        self._uow = uow
        self._sealer = sealer

    async def by_username(self, username: str) -> Operator | None:
        return await self._one("username", username)

    async def by_id(self, operator_id: str) -> Operator | None:
        return await self._one("operator_id", operator_id)

    async def all(self) -> list[Operator]:
        sql = f"SELECT {columns(COLUMNS)} FROM operators ORDER BY username"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql).fetchall())
        return [self.loaded(self.operator_from(tuple(row))) for row in rows]

    def add(self, operator: Operator) -> None:
        row = self._row(operator)

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO operators ({columns(COLUMNS)}) "
                    f"VALUES ({placeholders(len(COLUMNS))})",
                    tuple(row[name] for name in COLUMNS),
                )
            except sqlite3.IntegrityError as exc:
                if "operators.username" in str(exc):
                    raise DuplicateOperator() from None
                raise

        self._uow.stage(insert)
        self._uow.track(operator)

    def save(self, operator: Operator) -> None:
        row = self._row(operator)
        assignments = ", ".join(f"{name} = ?" for name in _CHANGEABLE)
        sql = (
            f"UPDATE operators SET {assignments}, version = version + 1 "
            "WHERE operator_id = ? AND version = ?"
        )
        params = (*(row[name] for name in _CHANGEABLE), operator.operator_id, operator.version)
        self._uow.stage(_expect_one(sql, params))
        self._uow.track(operator)

        def saved() -> None:
            operator.version += 1

        self._uow.after_commit(saved)

    def loaded(self, operator: Operator) -> Operator:
        """Track an operator read here (or joined by another repository)."""
        self._uow.track(operator)
        return operator

    async def _one(self, column: str, value: str) -> Operator | None:
        sql = f"SELECT {columns(COLUMNS)} FROM operators WHERE {column} = ?"
        rows = await self._uow.db.read(lambda conn: conn.execute(sql, (value,)).fetchall())
        return self.loaded(self.operator_from(tuple(rows[0]))) if rows else None

    def _row(self, operator: Operator) -> dict[str, object]:
        return {
            "operator_id": operator.operator_id,
            "username": operator.username,
            "role": operator.role,
            "unit_id": operator.unit_id,
            "status": operator.status,
            "password_hash": operator.password_hash,
            "password_change_required": int(operator.password_change_required),
            "totp_secret": self._sealer.seal(
                operator.totp_secret.encode("ascii"), _context(operator.operator_id)
            ),
            "totp_last_step": operator.totp_last_step,
            "failed_logins": operator.failed_logins,
            "locked_until": maybe_text(operator.locked_until),
            "created_at": text(operator.created_at),
            "updated_at": text(operator.updated_at),
            "version": operator.version,
        }

    def operator_from(self, row: tuple) -> Operator:
        values = dict(zip(COLUMNS, row, strict=True))
        sealed = values["totp_secret"]
        return Operator(
            operator_id=values["operator_id"],
            username=values["username"],
            role=values["role"],
            unit_id=values["unit_id"],
            status=values["status"],
            password_hash=values["password_hash"],
            password_change_required=bool(values["password_change_required"]),
            totp_secret=self._sealer.unseal(sealed, _context(values["operator_id"])).decode(
                "ascii"
            ),
            totp_last_step=values["totp_last_step"],
            failed_logins=values["failed_logins"],
            locked_until=maybe_moment(values["locked_until"]),
            created_at=moment(values["created_at"]),
            updated_at=moment(values["updated_at"]),
            version=values["version"],
        )
