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
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .migrations import migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


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
        """`fn` inside one transaction: all of it, or (when it raises) none of it."""
        return await self._writer.run(lambda conn: _in_transaction(fn, conn))

    async def close(self) -> None:
        try:
            await self._writer.close()
        finally:
            await self._reader.close()
