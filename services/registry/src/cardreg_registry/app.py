"""Wiring: settings -> adapters -> flows -> transport, and the service's start/stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cardreg_shared import bus
from cardreg_shared.bus import ServiceHost
from cardreg_shared.tasks import TaskPool
from nats.aio.client import Client

from . import __version__, transport
from .adapters.hashing import Argon2Hasher, Argon2Params
from .adapters.identity import IdentityClient
from .adapters.outbox_relay import OutboxRelay
from .adapters.sqlite_store import SqliteStore
from .adapters.tokens import TokenSigner, load_or_create_signing_key
from .flows.account_profile import GetAccount
from .flows.change_password import ChangePassword
from .flows.create_session import CreateSession
from .flows.jwks import PublishKeys
from .flows.lookup import LookupRegistration
from .flows.password_reset_complete import CompletePasswordReset
from .flows.password_reset_request import RequestPasswordReset
from .flows.ports import Clock
from .flows.register import Register
from .flows.revoke_session import RevokeSession
from .flows.update_account import UpdateAccount
from .settings import RegistrySettings

log = logging.getLogger("cardreg.registry")

DESCRIPTION = (
    "cardreg accounts: registration, login, sessions, password recovery, settings, signing keys"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """The registry service on one NATS connection: open with `start`, close with `stop`."""

    def __init__(
        self,
        settings: RegistrySettings,
        store: SqliteStore,
        relay: OutboxRelay,
        background: TaskPool,
        host: ServiceHost,
    ) -> None:
        self.settings = settings
        self.relay = relay
        self._store = store
        self._background = background
        self._host = host

    @classmethod
    async def start(
        cls, settings: RegistrySettings, nc: Client, *, clock: Clock = utc_now
    ) -> Registry:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await SqliteStore.open(settings.db_path)
        background = TaskPool(settings.reset_background_limit, name="reset follow-up")
        relay = OutboxRelay(
            store,
            nc.jetstream(),
            clock,
            poll_seconds=settings.outbox_poll_seconds,
            backoff_max_seconds=settings.outbox_backoff_max_seconds,
            retention=timedelta(seconds=settings.outbox_retention_seconds),
        )
        try:
            # The relay first: rows a crash left behind go out before new requests come in.
            await relay.start()
            host = await _serve(settings, nc, store, background, clock)
        except BaseException:
            await relay.stop()
            await store.close()
            raise
        return cls(settings, store, relay, background, host)

    async def settled(self) -> None:
        """Until the work started by requests answered so far (reset mails) is done."""
        await self._background.wait()

    async def stop(self) -> None:
        """Stop taking requests, let in-flight ones reply and background work finish, hand
        the queued mail to JetStream if it can, then close the database."""
        await self._host.stop()
        await self._background.wait()
        await self.relay.stop()
        await self._store.close()


async def _serve(
    settings: RegistrySettings,
    nc: Client,
    store: SqliteStore,
    background: TaskPool,
    clock: Clock,
) -> ServiceHost:
    tokens = TokenSigner(
        load_or_create_signing_key(settings.signing_key_path),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )
    hasher = Argon2Hasher(
        Argon2Params(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
        concurrency=settings.hash_concurrency,
    )
    await hasher.prepare()
    await _prune(store, clock())
    identity = IdentityClient(nc, timeout=settings.identity_timeout_seconds)
    lockout = settings.lockout()
    host = ServiceHost(
        nc,
        name="registry",
        version=__version__,
        description=DESCRIPTION,
        max_in_flight=settings.max_in_flight,
    )
    transport.register(
        host,
        lookup=LookupRegistration(identity, store),
        register=Register(identity, store, hasher, clock),
        create_session=CreateSession(identity, store, store, hasher, tokens, lockout, clock),
        revoke_session=RevokeSession(store, tokens, clock),
        get_account=GetAccount(store, tokens, clock),
        publish_keys=PublishKeys(tokens),
        request_reset=RequestPasswordReset(
            identity, store, store, background, settings.reset_policy(), clock
        ),
        complete_reset=CompletePasswordReset(identity, store, hasher, clock),
        change_password=ChangePassword(identity, store, store, hasher, tokens, lockout, clock),
        update_account=UpdateAccount(store, store, tokens, clock),
    )
    await host.start()
    return host


async def _prune(store: SqliteStore, now: datetime) -> None:
    """Rows that can never be used again: expired sessions, reset tokens expired a day ago
    (kept that long because the reset rate limit counts the recent ones)."""
    sessions = await store.prune_sessions(now)
    tokens = await store.prune_reset_tokens(now - timedelta(days=1))
    if sessions or tokens:
        log.info("pruned %d expired sessions, %d expired reset tokens", sessions, tokens)


@asynccontextmanager
async def running_registry(
    nats_url: str, data_dir: Path, *, clock: Clock = utc_now, **overrides: Any
) -> AsyncIterator[Registry]:
    """The whole service in-process on its own connection (tests, embedding)."""
    settings = RegistrySettings(nats_url=nats_url, data_dir=data_dir, **overrides)
    async with bus.running(
        "registry", nats_url, lambda nc: Registry.start(settings, nc, clock=clock)
    ) as registry:
        yield registry
