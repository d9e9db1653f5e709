"""The identity database: connection settings and versioned migrations (`PRAGMA user_version`).

One schema for the service and for `cardreg seed` / `cardreg import`, which write the same file
while the service runs: WAL lets readers go on during a write, `busy_timeout` makes writers
wait their turn instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_BUSY_TIMEOUT_MS = 5000

# Rowid tables: person_id and card_no are random, and appending rows while only the narrow
# indexes take random inserts keeps bulk seeding fast.
# Each entry moves the schema one version up; never edit one that has shipped, add another.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE people (
            id                INTEGER PRIMARY KEY,
            person_id         TEXT NOT NULL UNIQUE,
            id_no             TEXT NOT NULL UNIQUE,
            kind              TEXT NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
            name              TEXT NOT NULL,
            birth_date        TEXT NOT NULL,
            sex               TEXT NOT NULL CHECK (sex IN ('M', 'F')),
            household_no      TEXT,
            township          TEXT,
            village           TEXT,
            neighborhood      INTEGER,
            permit_issued_on  TEXT,
            permit_expires_on TEXT,
            permit_serial_no  TEXT,
            failed_guesses    INTEGER NOT NULL DEFAULT 0,
            locked_until      REAL,
            CHECK (kind <> 'citizen' OR (household_no IS NOT NULL AND township IS NOT NULL
                   AND village IS NOT NULL AND neighborhood IS NOT NULL)),
            CHECK (kind <> 'foreigner' OR (permit_issued_on IS NOT NULL
                   AND permit_expires_on IS NOT NULL AND permit_serial_no IS NOT NULL))
        )
        """,
        """
        CREATE TABLE cards (
            id         INTEGER PRIMARY KEY,
            card_no    TEXT NOT NULL UNIQUE,
            person_id  TEXT NOT NULL REFERENCES people (person_id),
            issued_on  TEXT NOT NULL,
            public_key BLOB NOT NULL CHECK (length(public_key) = 32),
            status     TEXT NOT NULL CHECK (status IN ('active', 'replaced'))
        )
        """,
        "CREATE INDEX cards_by_person ON cards (person_id, issued_on)",
    ),
    (
        # 2: insured units (employers) and who is insured through which; passports and
        # driving licences (the other documents follow from what people rows hold).
        """
        CREATE TABLE insured_units (
            unit_id TEXT PRIMARY KEY CHECK (length(unit_id) = 9),
            name    TEXT NOT NULL
        )
        """,
        "ALTER TABLE people ADD COLUMN passport_no TEXT",
        "ALTER TABLE people ADD COLUMN driving_licence_no TEXT",
        "ALTER TABLE people ADD COLUMN insured_unit TEXT REFERENCES insured_units (unit_id)",
        "CREATE INDEX people_by_unit ON people (insured_unit) WHERE insured_unit IS NOT NULL",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode (transactions are explicit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tied to the thread that opened it: the import writes from one worker thread while
    # the main thread parses (one thread uses it at a time).
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    configure(conn, busy_timeout_ms)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


PRAGMAS = (
    "PRAGMA synchronous = NORMAL",  # WAL: a crash loses at most the last commits, never integrity
    "PRAGMA foreign_keys = ON",
    "PRAGMA cache_size = -65536",  # up to 64 MiB of pages: random keys touch the whole index
)


def configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    for pragma in PRAGMAS:
        conn.execute(pragma)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock up front, so reads inside see what we will write over."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; safe to run twice and from two processes at once."""
    with write_transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"identity.db has schema {version}, newer than this code's")
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    return SCHEMA_VERSION


def open_migrated(
    path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    conn = connect(path, busy_timeout_ms=busy_timeout_ms)
    try:
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
