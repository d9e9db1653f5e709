"""PostgreSQL restarted under load: `cardreg up --replicas 2` on a throwaway cluster the test
owns, a mixed load of registrations, logins and reset requests, and the server stopped for a
few seconds and started again in the middle. Requests meanwhile get a retriable 503; every one
is answered, the services recover through their pools without being restarted, and nothing is
lost or doubled."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from cardreg_testkit.people import load_wallet
from cardreg_testkit.postgres import fresh_database, start_cluster, stop_cluster, throwaway_cluster

from .faults import PASSWORD, Load, answered
from .system import Mailbox, Portal, RunningSystem, body_text
from .test_faults import service_pids, until

DOWN_SECONDS = 3.0
MODULES = ("cardreg_identity", "cardreg_registry", "cardreg_mailer", "cardreg_gateway")


@pytest.fixture
def cluster() -> Iterator[str]:
    with throwaway_cluster() as url:
        yield url


@pytest.fixture
def database_url(cluster: str) -> Iterator[str]:
    with fresh_database(cluster) as url:
        yield url


@pytest.fixture
def system(tmp_path: Path, database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    running.start(extra=("--replicas", "2", "--database-url", database_url))
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.timeout(420)
def test_services_recover_from_a_database_restart_by_themselves(system, cluster, database_url):
    wallet = system.data_dir / "wallet.jsonl"
    system.cardreg(
        "seed", "--database-url", database_url, "--citizens", "60", "--foreigners", "0",
        "--wallet", str(wallet),
    )  # fmt: skip
    people = list(load_wallet(wallet))
    urls = [system.url, f"http://127.0.0.1:{system.port + 1}"]
    pids = {module: service_pids(system, module) for module in MODULES}
    assert all(len(p) == 2 for p in pids.values()), pids
    mailbox = Mailbox(system.data_dir / "mail")

    with Load(urls, people) as load:
        time.sleep(4)
        # Down for a few seconds, then up on the same port and data: a restart that requests
        # in flight feel, not only the connections the pools held.
        stop_cluster(cluster)
        time.sleep(DOWN_SECONDS)
        start_cluster(cluster)
        restarted = Counter(load.outcomes.answered)
        time.sleep(8)  # the load on the restarted server
    outcomes = load.outcomes
    print(f"answered {dict(outcomes.answered)}, retried {dict(outcomes.retried)}")

    assert outcomes.failures == [], outcomes.failures
    assert sum(outcomes.retried.values()) > 0  # the outage was felt (503s, retried)
    after = Counter(outcomes.answered)
    after.subtract(restarted)
    assert after["login"] > 0 and after["registration"] > 0, after
    # The same processes: none died, none was restarted.
    assert {module: service_pids(system, module) for module in MODULES} == pids
    assert "restarting in" not in system.log.read_text(errors="replace")

    with psycopg.connect(database_url) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT person_id) FROM registry.accounts"
        ).fetchone()
    assert rows == distinct == len(outcomes.registered)
    portals = [Portal(httpx.Client(base_url=url, timeout=30)) for url in urls]
    try:
        for n, person in enumerate(outcomes.registered):
            reply, _ = answered(portals, n, lambda p, me=person: p.login(me, PASSWORD))
            assert reply is not None and reply.status_code == 201
    finally:
        for portal in portals:
            portal.http.close()

    def resets_to(address: str) -> list:
        return [m for m in mailbox.to(address) if "/reset-password?token=" in body_text(m)]

    until(lambda: all(resets_to(a) for a in outcomes.resets), "a reset mail never arrived", 60)
    time.sleep(1.0)
    ids = Counter(str(m["Message-ID"]) for m in mailbox.all())
    assert [i for i, n in ids.items() if n > 1] == []
    for address, attempts in outcomes.resets.items():
        assert 1 <= len(resets_to(address)) <= attempts, address
