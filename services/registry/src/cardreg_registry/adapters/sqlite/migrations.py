"""Schema versions, applied in order; `PRAGMA user_version` records how far a file has come.

Append new versions; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

MIGRATIONS: tuple[str, ...] = (
    # 1: accounts and sessions. Times are ISO-8601 UTC text. The raw ID number is never
    # stored: only its masked form, snapshotted at registration.
    """
    CREATE TABLE accounts (
        account_id    TEXT PRIMARY KEY,
        person_id     TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
        id_no_masked  TEXT NOT NULL,
        bound_card_no TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        email         TEXT,
        phone         TEXT,
        status        TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
        channel       TEXT NOT NULL CHECK (channel IN ('online', 'counter', 'employer')),
        failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until  TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE sessions (
        jti        TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        issued_at  TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX sessions_by_account ON sessions (account_id);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    """,
    # 2: mail language per account; password-reset tokens (only their SHA-256 is kept); the
    # outbox that carries mail requests to JetStream in the same transaction as the change.
    """
    ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-TW'
        CHECK (language IN ('zh-TW', 'en'));
    CREATE TABLE reset_tokens (
        token_hash    TEXT PRIMARY KEY,
        account_id    TEXT NOT NULL REFERENCES accounts (account_id),
        pending_email TEXT,
        created_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL,
        used_at       TEXT,
        voided_at     TEXT
    );
    CREATE INDEX reset_tokens_by_account ON reset_tokens (account_id, created_at);
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        subject      TEXT NOT NULL,
        msg_id       TEXT NOT NULL UNIQUE,
        payload      TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        published_at TEXT
    );
    CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
    CREATE INDEX outbox_by_published ON outbox (published_at) WHERE published_at IS NOT NULL;
    """,
)


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the file to the newest version, one transaction per step; returns the version."""
    ((version,),) = await conn.execute_fetchall("PRAGMA user_version")
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"registry.db is at schema {version}, newer than this code ({len(MIGRATIONS)})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        try:
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                await conn.rollback()
            raise
    return len(MIGRATIONS)
