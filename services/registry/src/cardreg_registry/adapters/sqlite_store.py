"""Accounts, sessions, reset tokens and the outbox in one sqlite file (WAL).

Two connections. The shared one runs autocommit single statements: each is atomic on its
own, so the many concurrent requests on it never end up inside each other's transaction.
Reads use `execute_fetchall`: one thread hop instead of three (login is the hot path).
Changes that must be atomic together (a state change and the mail it queues in the outbox)
run as `BEGIN IMMEDIATE ... COMMIT` on the second, writer connection, one at a time: on the
shared connection a concurrent single statement would land inside the open transaction, and
a rollback would silently undo it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from ..domain.accounts import Account, DuplicateAccount, ProfileChange
from ..domain.outbox import OutboxMessage, PendingMessage
from ..domain.reset_tokens import ResetToken
from ..domain.sessions import Session
from .migrations import migrate

_ACCOUNT_COLUMNS = (
    "account_id, person_id, kind, id_no_masked, bound_card_no, password_hash, email, phone, "
    "status, channel, failed_logins, locked_until, created_at, updated_at, language"
)
_SESSION_COLUMNS = "jti, account_id, issued_at, expires_at, revoked_at"
_RESET_COLUMNS = "token_hash, account_id, pending_email, created_at, expires_at, used_at, voided_at"
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
        language=row[14],
    )


def _session(row: sqlite3.Row | tuple) -> Session:
    return Session(
        jti=row[0],
        account_id=row[1],
        issued_at=datetime.fromisoformat(row[2]),
        expires_at=datetime.fromisoformat(row[3]),
        revoked_at=_moment(row[4]),
    )


def _reset_token(row: sqlite3.Row | tuple) -> ResetToken:
    return ResetToken(
        token_hash=row[0],
        account_id=row[1],
        pending_email=row[2],
        created_at=datetime.fromisoformat(row[3]),
        expires_at=datetime.fromisoformat(row[4]),
        used_at=_moment(row[5]),
        voided_at=_moment(row[6]),
    )


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute_fetchall(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        await conn.execute_fetchall("PRAGMA journal_mode = WAL")
        await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
        await conn.execute_fetchall("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _enqueue(conn: aiosqlite.Connection, message: OutboxMessage, now: datetime) -> None:
    await conn.execute_fetchall(
        "INSERT INTO outbox (subject, msg_id, payload, created_at) VALUES (?, ?, ?, ?)",
        (message.subject, message.msg_id, message.payload, _text(now)),
    )


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection, writer: aiosqlite.Connection) -> None:
        self._conn = conn
        self._writer = writer
        self._write_lock = asyncio.Lock()
        # Set after every commit that queued a message: wakes the outbox relay.
        self.outbox_written = asyncio.Event()

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        conn = await _connect(path)
        try:
            await migrate(conn)
            writer = await _connect(path)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, writer)

    async def close(self) -> None:
        try:
            await self._writer.close()
        finally:
            await self._conn.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One multi-statement transaction on the writer connection; the lock keeps them apart."""
        async with self._write_lock:
            await self._writer.execute_fetchall("BEGIN IMMEDIATE")
            try:
                yield self._writer
                await self._writer.execute_fetchall("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute_fetchall("ROLLBACK")
                raise

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
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES ({', '.join('?' * 15)})",
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
                    account.language,
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

    async def change_password(
        self,
        account_id: str,
        password_hash: str,
        keep_jti: str,
        now: datetime,
        notice: OutboxMessage | None,
    ) -> int:
        """New hash, failures cleared, every session but `keep_jti` revoked, the notice queued:
        all or nothing. Returns how many sessions were revoked."""
        async with self._transaction() as tx:
            await tx.execute_fetchall(
                "UPDATE accounts SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                "updated_at = ? WHERE account_id = ?",
                (password_hash, _text(now), account_id),
            )
            revoked = await tx.execute_fetchall(
                "UPDATE sessions SET revoked_at = ? "
                "WHERE account_id = ? AND jti != ? AND revoked_at IS NULL RETURNING jti",
                (_text(now), account_id, keep_jti),
            )
            if notice is not None:
                await _enqueue(tx, notice, now)
        self._queued(notice)
        return len(revoked)

    async def update_profile(
        self, account_id: str, plan: Callable[[Account], ProfileChange], now: datetime
    ) -> Account | None:
        """Apply `plan` to the account as it is inside the transaction, so a notice always
        goes to the address that was really on file; None when there is no such account."""
        async with self._transaction() as tx:
            rows = await tx.execute_fetchall(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?", (account_id,)
            )
            if not rows:
                return None
            current = _account(rows[0])
            change = plan(current)
            if not change.differs_from(current):
                return current
            rows = await tx.execute_fetchall(
                "UPDATE accounts SET email = ?, phone = ?, language = ?, updated_at = ? "
                f"WHERE account_id = ? RETURNING {_ACCOUNT_COLUMNS}",
                (change.email, change.phone, change.language, _text(now), account_id),
            )
            if change.notice is not None:
                await _enqueue(tx, change.notice, now)
        self._queued(change.notice)
        return _account(rows[0])

    # password-reset tokens

    async def recent_reset_count(self, account_id: str, since: datetime) -> int:
        rows = await self._conn.execute_fetchall(
            "SELECT COUNT(*) FROM reset_tokens WHERE account_id = ? AND created_at > ?",
            (account_id, _text(since)),
        )
        return rows[0][0]

    async def issue_reset_token(
        self, token: ResetToken, mail: OutboxMessage, *, limit: int, since: datetime
    ) -> bool:
        """Store the token, void the account's older unused ones and queue the mail, all or
        nothing; False (and nothing written) when `limit` tokens were issued since `since`.

        The count is taken inside the transaction, so concurrent requests cannot overrun it.
        """
        now = token.created_at
        async with self._transaction() as tx:
            ((recent,),) = await tx.execute_fetchall(
                "SELECT COUNT(*) FROM reset_tokens WHERE account_id = ? AND created_at > ?",
                (token.account_id, _text(since)),
            )
            if recent >= limit:
                return False
            await tx.execute_fetchall(
                "UPDATE reset_tokens SET voided_at = ? "
                "WHERE account_id = ? AND used_at IS NULL AND voided_at IS NULL",
                (_text(now), token.account_id),
            )
            await tx.execute_fetchall(
                f"INSERT INTO reset_tokens ({_RESET_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                (
                    token.token_hash,
                    token.account_id,
                    token.pending_email,
                    _text(token.created_at),
                    _text(token.expires_at),
                ),
            )
            await _enqueue(tx, mail, now)
        self._queued(mail)
        return True

    async def reset_token(self, token_hash: str) -> ResetToken | None:
        rows = await self._conn.execute_fetchall(
            f"SELECT {_RESET_COLUMNS} FROM reset_tokens WHERE token_hash = ?", (token_hash,)
        )
        return _reset_token(rows[0]) if rows else None

    async def complete_reset(
        self, token_hash: str, password_hash: str, now: datetime, notice: OutboxMessage | None
    ) -> bool:
        """Consume the token and, with it, set the password, lift any lock, adopt the pending
        email, revoke every session and queue the notice; all or nothing.

        False when the token was no longer usable: of concurrent completions exactly one
        consumes it (the guarded UPDATE), the others change nothing.
        """
        async with self._transaction() as tx:
            consumed = await tx.execute_fetchall(
                "UPDATE reset_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL "
                "AND voided_at IS NULL AND expires_at > ?1 RETURNING account_id, pending_email",
                (_text(now), token_hash),
            )
            if not consumed:
                return False
            ((account_id, pending_email),) = consumed
            await tx.execute_fetchall(
                "UPDATE accounts SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                "email = COALESCE(?, email), updated_at = ? WHERE account_id = ?",
                (password_hash, pending_email, _text(now), account_id),
            )
            await tx.execute_fetchall(
                "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
                (_text(now), account_id),
            )
            if notice is not None:
                await _enqueue(tx, notice, now)
        self._queued(notice)
        return True

    async def prune_reset_tokens(self, expired_before: datetime) -> int:
        rows = await self._conn.execute_fetchall(
            "DELETE FROM reset_tokens WHERE expires_at < ? RETURNING token_hash",
            (_text(expired_before),),
        )
        return len(rows)

    # outbox

    async def enqueue(self, message: OutboxMessage, now: datetime) -> None:
        """Queue a message on its own (no state change goes with it)."""
        await _enqueue(self._conn, message, now)
        self._queued(message)

    async def pending_messages(self, limit: int) -> list[PendingMessage]:
        rows = await self._conn.execute_fetchall(
            "SELECT id, subject, msg_id, payload FROM outbox WHERE published_at IS NULL "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [PendingMessage(row[0], OutboxMessage(row[1], row[2], row[3])) for row in rows]

    async def mark_published(self, row_id: int, now: datetime) -> None:
        """Published: keep subject and id for a while, drop the payload at once (a reset mail
        carries a live token, which must not sit in the database beside its hash)."""
        await self._conn.execute_fetchall(
            "UPDATE outbox SET published_at = ?, payload = '' WHERE id = ? AND published_at IS NULL",
            (_text(now), row_id),
        )

    async def prune_outbox(self, published_before: datetime) -> int:
        rows = await self._conn.execute_fetchall(
            "DELETE FROM outbox WHERE published_at < ? RETURNING id", (_text(published_before),)
        )
        return len(rows)

    def _queued(self, message: OutboxMessage | None) -> None:
        if message is not None:
            self.outbox_written.set()

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
