"""The unit of work on sqlite, and the storage that hands units of work out.

Repositories read at once (one hop each, on the reader connection) and stage their writes as
small functions; `commit` runs them all, then an outbox row for every event the accounts read
or added through this unit of work collected, in one `BEGIN IMMEDIATE ... COMMIT` on the
writer: one hop. A guard that fails raises inside the transaction, which rolls it back.
After a failed commit the unit of work and its accounts are spent: start a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Self

from cardreg_shared import logs
from cardreg_shared.models.events import AccountEvent

from ...domain.accounts import Account
from ...domain.operators import Operator
from ...domain.outbox import OutboxMessage
from ...flows.ports import Tally
from .accounts import SqliteAccounts
from .activity import SqliteActivity, insert_event
from .database import SqliteDatabase
from .devices import SqliteDeviceBindings, SqliteDevices, SqliteSpentChallenges
from .keys import Sealer, SqliteKeys
from .oidc import SqliteClients, SqliteConsents, SqliteGrants
from .operators import SqliteOperators
from .outbox import SqliteOutbox, SqliteOutboxFeed, insert_message
from .reset_requests import SqliteResetRequestFeed, SqliteResetRequests
from .reset_tokens import SqliteResetTokens
from .sessions import SqliteSessions
from .setups import SqliteSetups

Write = Callable[[sqlite3.Connection], None]


class WrongSecret(RuntimeError):
    """The registry secret is not the one this database was written with."""


class SqliteUnitOfWork:
    def __init__(
        self,
        db: SqliteDatabase,
        sealer: Sealer,
        feed: SqliteOutboxFeed,
        resets: SqliteResetRequestFeed,
    ) -> None:
        self.db = db
        self._feed = feed
        self._writes: list[Write] = []
        self._after: list[Callable[[], None]] = []
        self._seen: list[Account | Operator] = []
        self._queued = False
        self.accounts = SqliteAccounts(self)
        self.sessions = SqliteSessions(self)
        self.reset_tokens = SqliteResetTokens(self)
        self.operators = SqliteOperators(self, sealer)
        self.setups = SqliteSetups(self)
        self.activity = SqliteActivity(self)
        self.outbox = SqliteOutbox(self)
        self.reset_requests = SqliteResetRequests(self, sealer, resets)
        self.keys = SqliteKeys(self, sealer)
        self.devices = SqliteDevices(self)
        self.device_bindings = SqliteDeviceBindings(self)
        self.spent_challenges = SqliteSpentChallenges(self)
        self.clients = SqliteClients(self)
        self.grants = SqliteGrants(self)
        self.consents = SqliteConsents(self)

    # for the repositories

    def stage(self, write: Write, account: Account | Operator | None = None) -> None:
        self._writes.append(write)
        if account is not None:
            self.track(account)

    def stage_counted(self, sql: str, params: tuple) -> Tally:
        tally = Tally()

        def run(conn: sqlite3.Connection) -> None:
            tally.count = conn.execute(sql, params).rowcount

        self._writes.append(run)
        return tally

    def stage_message(self, message: OutboxMessage, created_at: datetime) -> None:
        # Staged while the request that queues it runs: its correlation id goes with the row.
        message = replace(message, correlation_id=message.correlation_id or logs.correlation_id())
        self._writes.append(lambda conn: insert_message(conn, message, created_at))
        self._queued = True

    def track(self, account: Account | Operator) -> None:
        if not any(seen is account for seen in self._seen):
            self._seen.append(account)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after.append(hook)

    # for the flows

    async def commit(self) -> None:
        for account in self._seen:
            for event in account.pull_events():
                self.stage_message(OutboxMessage.event(event), event.occurred_at)
                if isinstance(event, AccountEvent):
                    self._writes.append(lambda conn, event=event: insert_event(conn, event))
        writes, after, queued = self._writes, self._after, self._queued
        self._writes, self._after, self._queued = [], [], False
        if not writes:
            return

        def run(conn: sqlite3.Connection) -> None:
            for write in writes:
                write(conn)

        await self.db.write(run)
        for hook in after:
            hook()
        if queued:
            self._feed.written.set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._writes, self._after, self._queued = [], [], False


class SqliteStorage:
    """registry.db: the accounts, operators, sessions, devices, reset tokens, key set and outbox."""

    def __init__(self, db: SqliteDatabase, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        self.outbox = SqliteOutboxFeed(db)
        self.reset_requests = SqliteResetRequestFeed(db, sealer)

    @classmethod
    async def open(cls, path: Path, sealer: Sealer, *, secret_check: str) -> SqliteStorage:
        """Open (creating and migrating) the file. `secret_check` is the registry secret's
        check value: the first opening records it; a different one is refused (`WrongSecret`),
        as keys sealed and ID numbers hashed under another secret would be unusable."""
        db = await SqliteDatabase.open(path)
        try:
            await db.write(lambda conn: _check_secret(conn, secret_check))
        except BaseException:
            await db.close()
            raise
        return cls(db, sealer)

    def unit_of_work(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self._db, self._sealer, self.outbox, self.reset_requests)

    async def close(self) -> None:
        await self._db.close()


def _check_secret(conn: sqlite3.Connection, check: str) -> None:
    rows = conn.execute("SELECT value FROM registry_meta WHERE name = 'secret_check'").fetchall()
    if not rows:
        conn.execute("INSERT INTO registry_meta (name, value) VALUES ('secret_check', ?)", (check,))
    elif rows[0][0] != check:
        raise WrongSecret("the registry secret does not match the one registry.db was written with")
