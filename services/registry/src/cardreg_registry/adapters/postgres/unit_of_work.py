"""The unit of work on PostgreSQL, and the storage that hands units of work out: the twin of
sqlite/unit_of_work.py. Reads go at once, each on a pooled connection; `commit` runs every
staged write and an outbox row for every event collected, in one transaction on one
connection. A guard that fails raises inside it, which rolls it back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Self

from cardreg_shared import logs
from cardreg_shared.models.events import AccountEvent
from cardreg_shared.postgres import PgDatabase
from psycopg import AsyncConnection

from ...domain.accounts import Account
from ...domain.operators import Operator
from ...domain.outbox import OutboxMessage
from ...flows.ports import Tally
from ..sqlite.keys import Sealer
from ..sqlite.unit_of_work import WrongSecret
from .accounts import PgAccounts
from .activity import PgActivity, insert_event
from .devices import PgDeviceBindings, PgDevices, PgSpentChallenges
from .keys import PgKeys
from .migrations import MIGRATIONS
from .oidc import PgClients, PgConsents, PgGrants
from .operators import PgOperators
from .outbox import PgOutbox, PgOutboxFeed, insert_message
from .reset_requests import PgResetRequestFeed, PgResetRequests
from .reset_tokens import PgResetTokens
from .sessions import PgSessions
from .setups import PgSetups

Write = Callable[[AsyncConnection], Awaitable[None]]


class PgUnitOfWork:
    def __init__(
        self,
        db: PgDatabase,
        sealer: Sealer,
        feed: PgOutboxFeed,
        resets: PgResetRequestFeed,
    ) -> None:
        self.db = db
        self._feed = feed
        self._writes: list[Write] = []
        self._after: list[Callable[[], None]] = []
        self._seen: list[Account | Operator] = []
        self._queued = False
        self.accounts = PgAccounts(self)
        self.sessions = PgSessions(self)
        self.reset_tokens = PgResetTokens(self)
        self.operators = PgOperators(self, sealer)
        self.setups = PgSetups(self)
        self.activity = PgActivity(self)
        self.outbox = PgOutbox(self)
        self.reset_requests = PgResetRequests(self, sealer, resets)
        self.keys = PgKeys(self, sealer)
        self.devices = PgDevices(self)
        self.device_bindings = PgDeviceBindings(self)
        self.spent_challenges = PgSpentChallenges(self)
        self.clients = PgClients(self)
        self.grants = PgGrants(self)
        self.consents = PgConsents(self)

    # for the repositories

    def stage(self, write: Write, account: Account | Operator | None = None) -> None:
        self._writes.append(write)
        if account is not None:
            self.track(account)

    def stage_counted(self, sql: str, params: tuple) -> Tally:
        tally = Tally()

        async def run(conn: AsyncConnection) -> None:
            tally.count = (await conn.execute(sql, params)).rowcount

        self._writes.append(run)
        return tally

    def stage_message(self, message: OutboxMessage, created_at: datetime) -> None:
        # Staged while the request that queues it runs: its correlation id goes with the row.
        message = replace(message, correlation_id=message.correlation_id or logs.correlation_id())

        async def run(conn: AsyncConnection) -> None:
            await insert_message(conn, message, created_at)

        self._writes.append(run)
        self._queued = True

    @staticmethod
    def _event_writer(event: AccountEvent) -> Write:
        async def run(conn: AsyncConnection) -> None:
            await insert_event(conn, event)

        return run

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
                    self._writes.append(self._event_writer(event))
        writes, after, queued = self._writes, self._after, self._queued
        self._writes, self._after, self._queued = [], [], False
        if not writes:
            return

        async def run(conn: AsyncConnection) -> None:
            for write in writes:
                await write(conn)

        await self.db.write(run)
        for hook in after:
            hook()
        if queued:
            self._feed.written.set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._writes, self._after, self._queued = [], [], False


class PgStorage:
    """The registry's schema: the accounts, operators, sessions, devices, reset tokens, setups,
    account events, key set, relying services and outbox."""

    def __init__(self, db: PgDatabase, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        self.outbox = PgOutboxFeed(db)
        self.reset_requests = PgResetRequestFeed(db, sealer)

    @classmethod
    async def open(cls, url: str, sealer: Sealer, *, secret_check: str) -> PgStorage:
        """Connect and migrate; the secret's check value as on sqlite (`WrongSecret`)."""
        db = await PgDatabase.open(url, MIGRATIONS, name="registry")
        try:
            await db.write(lambda conn: _check_secret(conn, secret_check))
        except BaseException:
            await db.close()
            raise
        return cls(db, sealer)

    def unit_of_work(self) -> PgUnitOfWork:
        return PgUnitOfWork(self._db, self._sealer, self.outbox, self.reset_requests)

    async def close(self) -> None:
        await self._db.close()


async def _check_secret(conn: AsyncConnection, check: str) -> None:
    await conn.execute(
        "INSERT INTO registry_meta (name, value) VALUES ('secret_check', %s) "
        "ON CONFLICT (name) DO NOTHING",
        (check,),
    )
    cursor = await conn.execute("SELECT value FROM registry_meta WHERE name = 'secret_check'")
    row = await cursor.fetchone()
    if row is None or row[0] != check:
        raise WrongSecret(
            "the registry secret does not match the one its database was written with"
        )
