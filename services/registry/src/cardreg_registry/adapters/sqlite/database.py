"""One sqlite file (WAL) behind two connections, each confined to a thread of its own.

`read` runs a function on the reader connection; `write` runs one on the writer connection
inside `BEGIN IMMEDIATE ... COMMIT` (or ROLLBACK when it raises). Either is one hop from the
event loop to the thread and back, however many statements the function runs: a unit of work
commits all it staged in one hop, and login stays at two (its read and its commit).

Writes never share a connection with a concurrent statement of another request, and a
rollback can only undo its own statements. aiosqlite has no public way to run several
statements in one hop, hence this small worker instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from cardreg_shared.errors import ErrorCode, ServiceFailure

from .migrations import migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
# Primary result codes of a disk that is full or fails under sqlite.
_STORAGE_FAILURES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR})

log = logging.getLogger("cardreg.registry.storage")


def storage_failed(exc: sqlite3.Error) -> bool:
    """Is this sqlite error the disk being full or failing (SQLITE_FULL, SQLITE_IOERR_*)?"""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _STORAGE_FAILURES


def _error_name(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", None) or type(exc).__name__


class _Worker:
    """A sqlite3 connection used only from its own thread."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None

    async def open(self, path: Path) -> None:
        self._conn = await self._submit(lambda _: _connect(path))

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._submit(fn)

    async def close(self) -> None:
        try:
            if self._conn is not None:
                await self._submit(lambda conn: conn.close())
                self._conn = None
        finally:
            self._executor.shutdown(wait=False)

    def _submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, self._conn)


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit: transactions are explicit (`write`), reads are single statements.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _in_transaction(fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        # Also when COMMIT itself failed: the next transaction must not start inside this one.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class SqliteDatabase:
    def __init__(self, reader: _Worker, writer: _Worker) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating and migrating) the file; the writer migrates before anyone reads."""
        writer, reader = _Worker("registry-db-write"), _Worker("registry-db-read")
        try:
            await writer.open(path)
            await writer.run(migrate)
            await reader.open(path)
        except BaseException:
            await reader.close()
            await writer.close()
            raise
        return cls(reader, writer)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._reader.run(fn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` inside one transaction: all of it, or (when it raises) none of it.

        A full disk (or a failing one) refuses the write as `unavailable`: a passing state
        that an operator fixes, nothing of the request's. Reads go on; what was committed stays
        (sqlite rolls the transaction back), and writes work again once there is space."""
        try:
            return await self._writer.run(lambda conn: _in_transaction(fn, conn))
        except sqlite3.OperationalError as exc:
            if not storage_failed(exc):
                raise
            log.warning("registry database: write refused: %s", _error_name(exc))
            raise ServiceFailure(ErrorCode.UNAVAILABLE) from exc

    async def close(self) -> None:
        try:
            await self._writer.close()
        finally:
            await self._reader.close()
