"""Schema versions, applied in order; `PRAGMA user_version` records how far a file has come.

Append new versions; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

MIGRATIONS: tuple[str, ...] = (
    # 1: the send ledger and the counters. `sent` holds no address and no link: only which
    # request went out, as which Message-ID, when. The trigger counts a send in the same
    # statement that records it.
    """
    CREATE TABLE sent (
        request_id TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at    TEXT NOT NULL
    );
    CREATE INDEX sent_by_time ON sent (sent_at);
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL CHECK (value >= 0)
    );
    INSERT INTO counters (name, value)
        VALUES ('sent', 0), ('duplicates_skipped', 0), ('retries', 0), ('dead_lettered', 0);
    CREATE TRIGGER count_sent AFTER INSERT ON sent
    BEGIN
        UPDATE counters SET value = value + 1 WHERE name = 'sent';
    END;
    """,
)


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the file to the newest version, one transaction per step; returns the version."""
    ((version,),) = await conn.execute_fetchall("PRAGMA user_version")
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"mailer.db is at schema {version}, newer than this code ({len(MIGRATIONS)})"
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
