"""The storage conformance suite: every behaviour the flows rely on from storage, written
against the ports (flows/ports.py) only. Every backend runs all of it: a backend is one entry
in BACKENDS, a function that opens storages on one fresh database (each call a separate
storage, as another process or replica would have): sqlite on a file of the test's own,
PostgreSQL on a schema of the test's own (the test kit's `postgres_url`)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.adapters.postgres.unit_of_work import PgStorage
from cardreg_registry.adapters.registry_secret import KeySealer, RegistrySecret
from cardreg_registry.adapters.sqlite.unit_of_work import SqliteStorage
from cardreg_registry.domain.accounts import Account
from cardreg_registry.domain.outbox import OutboxMessage
from cardreg_registry.domain.reset_tokens import ResetToken, hash_reset_secret
from cardreg_registry.domain.sessions import Session
from cardreg_registry.flows.ports import Storage, UnitOfWork

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)

# A storage on the backend's database; with a sealer of another secret (as if its sealed
# values had been written by an incompatible build), for the tests of values that do not open.
Opener = Callable[..., Awaitable[Storage]]


def sqlite_backend(request: pytest.FixtureRequest, secret: RegistrySecret) -> Opener:
    path = request.getfixturevalue("tmp_path") / "registry.db"

    async def open_storage(sealer: KeySealer | None = None) -> Storage:
        sealer = sealer or secret.sealer()
        return await SqliteStorage.open(path, sealer, secret_check=secret.check_value)

    return open_storage


def postgres_backend(request: pytest.FixtureRequest, secret: RegistrySecret) -> Opener:
    url = request.getfixturevalue("postgres_url")

    async def open_storage(sealer: KeySealer | None = None) -> Storage:
        sealer = sealer or secret.sealer()
        return await PgStorage.open(url, sealer, secret_check=secret.check_value)

    return open_storage


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, RegistrySecret], Opener]] = {
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}


@dataclass
class Backend:
    name: str
    open: Opener


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    opener = BACKENDS[request.param](request, RegistrySecret(secrets.token_bytes(32)))
    opened: list[Storage] = []

    async def open_storage(sealer: KeySealer | None = None) -> Storage:
        opened.append(await opener(sealer))
        return opened[-1]

    yield Backend(request.param, open_storage)
    for storage in opened:
        await storage.close()


@pytest.fixture
async def store(backend: Backend) -> Storage:
    return await backend.open()


@pytest.fixture
async def other_store(backend: Backend, store: Storage) -> Storage:
    """A second storage on the same database: another process, another replica."""
    return await backend.open()


def account(n: int = 1, **changes) -> Account:
    base = Account(
        account_id=f"acc-{n}",
        person_id=f"person-{n}",
        kind="citizen",
        id_no_masked="A12*****89",
        bound_card_no="000011112222",
        password_hash="$argon2id$stub",
        email="mei@example.com",
        phone="0912345678",
        status="active",
        channel="online",
        failed_logins=0,
        locked_until=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def session(session_id: str, account_id: str = "acc-1", minutes: int = 60) -> Session:
    return Session(session_id, account_id, NOW, NOW + timedelta(minutes=minutes))


def reset_token(secret: str, at: datetime = NOW, pending: str | None = None) -> ResetToken:
    return ResetToken(
        token_hash=hash_reset_secret(secret),
        account_id="acc-1",
        pending_email=pending,
        created_at=at,
        expires_at=at + timedelta(minutes=30),
    )


def message(n: int) -> OutboxMessage:
    return OutboxMessage("mail.password_reset", f"msg-{n:016d}", f'{{"n": {n}}}')


async def committed(store: Storage, stage: Callable[[UnitOfWork], None]) -> None:
    """Stage writes in a fresh unit of work and commit them."""
    async with store.unit_of_work() as uow:
        stage(uow)
        await uow.commit()


async def added(store: Storage, *accounts: Account) -> None:
    await committed(store, lambda uow: [uow.accounts.add(a) for a in accounts])


async def read(store: Storage, account_id: str = "acc-1") -> Account | None:
    return await store.unit_of_work().accounts.by_id(account_id)
