"""Accounts and sessions in one sqlite file (WAL, autocommit).

Every write is a single statement, so each is atomic on its own and concurrent requests on
the shared connection can never end up inside each other's transaction. Reads use
`execute_fetchall`: one thread hop instead of three (login is the hot path).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from ..domain.accounts import Account, DuplicateAccount
from ..domain.sessions import Session
from .migrations import migrate

_ACCOUNT_COLUMNS = (
    "account_id, person_id, kind, id_no_masked, bound_card_no, password_hash, email, phone, "
    "status, channel, failed_logins, locked_until, created_at, updated_at"
)
_SESSION_COLUMNS = "jti, account_id, issued_at, expires_at, revoked_at"
_BUSY_TIMEOUT_MS = 5000


def _qualified(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _account(row: sqlite3.Row | tuple) -> Account:
    return Account(
        account_id=row[0],
        person_id=row[1],
        kind=row[2],
        id_no_masked=row[3],
        bound_card_no=row[4],
        password_hash=row[5],
        email=row[6],
        phone=row[7],
        status=row[8],
        channel=row[9],
        failed_logins=row[10],
        locked_until=_moment(row[11]),
        created_at=datetime.fromisoformat(row[12]),
        updated_at=datetime.fromisoformat(row[13]),
    )


def _session(row: sqlite3.Row | tuple) -> Session:
    return Session(
        jti=row[0],
        account_id=row[1],
        issued_at=datetime.fromisoformat(row[2]),
        expires_at=datetime.fromisoformat(row[3]),
        revoked_at=_moment(row[4]),
    )


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            await conn.execute_fetchall("PRAGMA journal_mode = WAL")
            await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
            await conn.execute_fetchall("PRAGMA foreign_keys = ON")
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        await self._conn.close()

    # accounts

    async def account_by_person(self, person_id: str) -> Account | None:
        rows = await self._conn.execute_fetchall(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE person_id = ?", (person_id,)
        )
        return _account(rows[0]) if rows else None

    async def account_by_id(self, account_id: str) -> Account | None:
        rows = await self._conn.execute_fetchall(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?", (account_id,)
        )
        return _account(rows[0]) if rows else None

    async def add_account(self, account: Account) -> None:
        """Insert; `DuplicateAccount` when the person already has one (a lost race)."""
        try:
            await self._conn.execute_fetchall(
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                (
                    account.account_id,
                    account.person_id,
                    account.kind,
                    account.id_no_masked,
                    account.bound_card_no,
                    account.password_hash,
                    account.email,
                    account.phone,
                    account.status,
                    account.channel,
                    account.failed_logins,
                    None if account.locked_until is None else _text(account.locked_until),
                    _text(account.created_at),
                    _text(account.updated_at),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "accounts.person_id" in str(exc):
                raise DuplicateAccount() from None
            raise

    async def record_failed_login(self, account_id: str, limit: int) -> int:
        """Count one more consecutive failure, never past `limit`; returns the new count.

        The increment is one statement, so concurrent failures each see a distinct count and
        exactly one of them sees the count that triggers a lock.
        """
        rows = await self._conn.execute_fetchall(
            "UPDATE accounts SET failed_logins = MIN(failed_logins + 1, ?) "
            "WHERE account_id = ? RETURNING failed_logins",
            (limit, account_id),
        )
        return rows[0][0] if rows else 0

    async def lock(self, account_id: str, until: datetime, failures: int) -> None:
        """Lock, unless a login succeeded (or failed again) since `failures` was counted."""
        await self._conn.execute_fetchall(
            "UPDATE accounts SET locked_until = ? WHERE account_id = ? AND failed_logins = ?",
            (_text(until), account_id, failures),
        )

    async def record_login(
        self,
        account_id: str,
        now: datetime,
        *,
        card_no: str | None = None,
        password_hash: str | None = None,
    ) -> None:
        """A successful login: clear failures and lock; bind a newer card; store a rehash."""
        await self._conn.execute_fetchall(
            "UPDATE accounts SET failed_logins = 0, locked_until = NULL, "
            "bound_card_no = COALESCE(?1, bound_card_no), "
            "password_hash = COALESCE(?2, password_hash), "
            "updated_at = CASE WHEN ?1 IS NULL THEN updated_at ELSE ?3 END "
            "WHERE account_id = ?4",
            (card_no, password_hash, _text(now), account_id),
        )

    # sessions

    async def add_session(self, session: Session) -> None:
        await self._conn.execute_fetchall(
            f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
            (session.jti, session.account_id, _text(session.issued_at), _text(session.expires_at)),
        )

    async def revoke_session(self, jti: str, now: datetime) -> bool:
        """Mark revoked; False when there is no such session or it was revoked already."""
        rows = await self._conn.execute_fetchall(
            "UPDATE sessions SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL RETURNING jti",
            (_text(now), jti),
        )
        return bool(rows)

    async def session_with_account(self, jti: str) -> tuple[Session, Account] | None:
        columns = f"{_qualified(_SESSION_COLUMNS, 's')}, {_qualified(_ACCOUNT_COLUMNS, 'a')}"
        rows = await self._conn.execute_fetchall(
            f"SELECT {columns} FROM sessions s JOIN accounts a ON a.account_id = s.account_id "
            "WHERE s.jti = ?",
            (jti,),
        )
        if not rows:
            return None
        row = tuple(rows[0])
        return _session(row[:5]), _account(row[5:])

    async def prune_sessions(self, expired_before: datetime) -> int:
        """Drop sessions that expired before `expired_before`; they can never be used again."""
        rows = await self._conn.execute_fetchall(
            "DELETE FROM sessions WHERE expires_at < ? RETURNING jti", (_text(expired_before),)
        )
        return len(rows)
