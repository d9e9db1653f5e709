"""One running system per test module (start-up is seconds); people are never shared."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .system import Mailbox, People, Portal, RunningSystem


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    # DEBUG, so that the no-personal-data check of the logs covers every log line there is.
    running = RunningSystem(tmp_path_factory.mktemp("system"), env={"CARDREG_LOG_LEVEL": "DEBUG"})
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def people(system: RunningSystem) -> People:
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=40, foreigners=10))


@pytest.fixture
def portal(system: RunningSystem) -> Iterator[Portal]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Portal(http)


@pytest.fixture(scope="module")
def mailbox(system: RunningSystem) -> Mailbox:
    return Mailbox(system.data_dir / "mail")
