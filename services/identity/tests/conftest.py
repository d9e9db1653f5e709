"""Fixtures for identity tests: a seeded database, a fake clock, the service on a real nats-server."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from cardreg_gateway.agent.wallet import WalletEntry, load_wallet
from cardreg_identity.app import running_identity
from cardreg_identity.flows.seed import seed
from cardreg_shared import bus


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Seeded:
    data_dir: Path
    db_path: Path
    wallet: list[WalletEntry]

    def first(self, kind: str) -> WalletEntry:
        return next(entry for entry in self.wallet if entry.kind == kind)

    def all(self, kind: str) -> list[WalletEntry]:
        return [entry for entry in self.wallet if entry.kind == kind]


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    data_dir = tmp_path / "data"
    wallet = tmp_path / "wallet.jsonl"
    seed(data_dir / "identity.db", citizens=12, foreigners=6, wallet=wallet, rng=random.Random(7))
    return Seeded(data_dir, data_dir / "identity.db", list(load_wallet(wallet)))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def service(nats_url: str, seeded: Seeded, clock: FakeClock):
    async with running_identity(nats_url, seeded.data_dir, clock=clock) as app:
        yield app


@pytest.fixture
async def client(nats_url: str, service):
    nc = await bus.connect(nats_url, name="client", allow_reconnect=False)
    yield nc
    await nc.close()
