"""The pytest fixtures every test tree shares (the root conftest loads this plugin):

- `nats_url`: the module's real nats-server, with an empty JetStream for this test;
- `nats_module_url`: the same server, as it is (for module-scoped fixtures);
- `nats_process`: a nats-server of this test's own, that the test may stop and restart;
- `nats_cluster_urls`: the client URLs of a three-node nats-server cluster of the module's own;
- `clock`: a `FakeClock`;
- `postgres_server_url`: the session's PostgreSQL server (`cardreg_testkit.postgres`);
- `postgres_url`: a URL on a fresh schema of this test's own, dropped afterwards;
- `postgres_database_url`: a URL on a fresh database of this test's own (each service takes
  its own schema in it), dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .clock import FakeClock
from .nats import NatsProcess, nats_server, wiped
from .nats_cluster import nats_cluster
from .postgres import fresh_database, fresh_schema, postgres_server


@pytest.fixture(scope="module")
def nats_module_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture
def nats_url(nats_module_url: str) -> str:
    return wiped(nats_module_url)


@pytest.fixture
def nats_process(tmp_path: Path) -> Iterator[NatsProcess]:
    server = NatsProcess(tmp_path / "nats-process")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_schema(postgres_server_url) as url:
        yield url


@pytest.fixture
def postgres_database_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def nats_cluster_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    with nats_cluster(tmp_path_factory.mktemp("nats-cluster")) as urls:
        yield urls
