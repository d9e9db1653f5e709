"""Fixtures for identity tests: a seeded database and the service on a real nats-server (the
fake clock is the test kit's `clock` fixture)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from cardreg_identity.app import running_identity
from cardreg_identity.cli import seed
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
