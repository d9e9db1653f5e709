"""Fixtures for identity tests: a seeded database and the service on a real nats-server (the
fake clock is the test kit's `clock` fixture)."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from cardreg_identity.adapters.postgres_store import PgStore
from cardreg_identity.adapters.store import SqliteStore
from cardreg_identity.app import running_identity
from cardreg_identity.cli import seed
from cardreg_identity.domain.guessing import GuessPolicy
from cardreg_shared import bus
from cardreg_testkit.clock import FakeClock
from cardreg_testkit.people import WalletCard, load_wallet


@dataclass
class Seeded:
    data_dir: Path
    db_path: Path
    wallet: list[WalletCard]

    def first(self, kind: str) -> WalletCard:
        return next(entry for entry in self.wallet if entry.kind == kind)

    def all(self, kind: str) -> list[WalletCard]:
        return [entry for entry in self.wallet if entry.kind == kind]


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    data_dir = tmp_path / "data"
    wallet = tmp_path / "wallet.jsonl"
    seed(data_dir / "identity.db", citizens=12, foreigners=6, wallet=wallet, rng=random.Random(7))
    return Seeded(data_dir, data_dir / "identity.db", list(load_wallet(wallet)))


@pytest.fixture
async def service(nats_url: str, seeded: Seeded, clock: FakeClock):
    async with running_identity(nats_url, seeded.data_dir, clock=clock.epoch) as app:
        yield app


@pytest.fixture
async def client(nats_url: str, service):
    nc = await bus.connect(nats_url, name="client", allow_reconnect=False)
    yield nc
    await nc.close()


# The roster's backends: identity.db, or a schema of the test's own on PostgreSQL. A test
# taking `database` runs on each (a Path for sqlite, a URL for PostgreSQL).
BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return tmp_path / "data" / "identity.db"


def query(database: Path | str, sql: str) -> list[tuple]:
    """Rows of a read-only query on either backend."""
    if isinstance(database, str):
        with psycopg.connect(database) as conn:
            return conn.execute(sql).fetchall()
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


async def open_store(database: Path | str, policy: GuessPolicy | None = None):
    policy = policy or GuessPolicy()
    if isinstance(database, str):
        return await PgStore.open(database, policy)
    return await SqliteStore.open(database, policy)
