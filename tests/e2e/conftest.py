"""One running system for the suite's modules that need no system of their own (start-up is
seconds); people are never shared, so no test sees another's account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .system import Mailbox, People, Portal, RunningSystem


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    # DEBUG, so that the no-personal-data check of the logs covers every log line there is.
    running = RunningSystem(tmp_path_factory.mktemp("system"), env={"CARDREG_LOG_LEVEL": "DEBUG"})
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def people(system: RunningSystem) -> People:
    return People(system.seed(system.data_dir / "wallet.jsonl", citizens=80, foreigners=20))


@pytest.fixture
def portal(system: RunningSystem) -> Iterator[Portal]:
    with httpx.Client(base_url=system.url, timeout=30) as http:
        yield Portal(http)


@pytest.fixture(scope="session")
def mailbox(system: RunningSystem) -> Mailbox:
    return Mailbox(system.data_dir / "mail")
