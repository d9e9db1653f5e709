"""Faults under load on `cardreg up --nats-nodes 3 --replicas 2 --database-url postgresql://…`.

A mixed load of registrations, logins and reset requests runs over both gateways while one
replica of each service (registry, identity, mailer, gateway), then the nats-server leading the
MAIL stream, is killed with SIGKILL in turn and brought back by the supervisor. Every request is
answered (a 503 is retried), every account that got a 201 exists once and logs in, each reset
mail arrives once at the mail catcher, and JetStream answers throughout but for the leader's
election."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from cardreg_shared.subjects import MAIL_STREAM
from cardreg_testkit.people import load_wallet

from .faults import PASSWORD, JetStreamWatch, Load, answered
from .system import Mailbox, Portal, RunningSystem, body_text
from .test_lifecycle import _alive, _descendants
from .test_supervision import _cmdline

RESTART_WITHIN = 30.0
ELECTION_WITHIN = 12.0  # the longest JetStream may go without a MAIL leader
SETTLE = 2.0  # load on the restored set before the next kill


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    extra = ("--nats-nodes", "3", "--replicas", "2", "--database-url", postgres_database_url)
    running.start(timeout=120, extra=extra)
    try:
        yield running
    finally:
        running.stop()


def service_pids(system: RunningSystem, module: str) -> list[int]:
    assert system.proc is not None
    return sorted(
        pid
        for pid in _descendants(system.proc.pid)
        if f"-m {module}" in _cmdline(pid) and _alive(pid)
    )


def node_pid(system: RunningSystem, node: str) -> int:
    assert system.proc is not None
    config = f"nats-server-{node.rsplit('-', 1)[1]}.conf"
    (pid,) = [p for p in _descendants(system.proc.pid) if config in _cmdline(p) and _alive(p)]
    return pid


def kills_seen(system: RunningSystem) -> int:
    return system.log.read_text(errors="replace").count("was killed by SIGKILL")


def until(condition, what: str, within: float = RESTART_WITHIN) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def kill_and_wait_back(system: RunningSystem, pid: int, back) -> None:
    before = kills_seen(system)
    os.kill(pid, signal.SIGKILL)
    until(lambda: kills_seen(system) > before, f"the supervisor did not see {pid} die")
    until(back, f"{pid} was not replaced")
    time.sleep(SETTLE)


async def mail_leader(system: RunningSystem) -> str:
    nc = await system.connect()
    try:
        info = await nc.jetstream().stream_info(MAIL_STREAM.name)
        assert info.config.num_replicas == 3
        return info.cluster.leader
    finally:
        await nc.close()


@pytest.mark.timeout(600)
def test_one_of_each_killed_under_load_loses_nothing(system, postgres_database_url):
    wallet = system.data_dir / "wallet.jsonl"
    system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "80", "--foreigners", "0",
        "--wallet", str(wallet),
    )  # fmt: skip
    people = list(load_wallet(wallet))
    urls = [system.url, f"http://127.0.0.1:{system.port + 1}"]
    mailbox = Mailbox(system.data_dir / "mail")

    with JetStreamWatch(system) as watch, Load(urls, people) as load:
        time.sleep(3)  # the load under way on the whole set
        for module in ("cardreg_registry", "cardreg_identity", "cardreg_mailer"):
            pids = service_pids(system, module)
            assert len(pids) == 2, (module, pids)
            kill_and_wait_back(system, pids[0], lambda m=module: len(service_pids(system, m)) == 2)
        gateways = service_pids(system, "cardreg_gateway")
        assert len(gateways) == 2
        kill_and_wait_back(
            system,
            gateways[-1],
            lambda: len(service_pids(system, "cardreg_gateway")) == 2 and _ready(urls[1]),
        )
        leader = asyncio.run(mail_leader(system))
        kill_and_wait_back(system, node_pid(system, leader), lambda: _node_back(system, leader))
        time.sleep(3)  # the load once more on the restored set
    outcomes = load.outcomes
    print(  # what the load met, in the test's output (pytest -s, or with a failure)
        f"answered {dict(outcomes.answered)}, retried {dict(outcomes.retried)}, "
        f"{len(outcomes.resets)} resets, MAIL leaders {sorted(watch.leaders)}, "
        f"longest JetStream gap {watch.longest_gap:.1f} s"
    )

    assert outcomes.failures == [], outcomes.failures
    assert min(outcomes.answered[k] for k in ("registration", "login", "reset")) > 0, outcomes
    # JetStream answered again soon after its leader died: a new leader, or the same node back
    # (restarted in half a second, it may win the election again).
    assert watch.longest_gap < ELECTION_WITHIN, watch.longest_gap

    registered = outcomes.registered
    with psycopg.connect(postgres_database_url) as conn:
        rows, people_with_accounts = conn.execute(
            "SELECT count(*), count(DISTINCT person_id) FROM registry.accounts"
        ).fetchone()
    assert rows == people_with_accounts == len(registered)
    with_portals = [Portal(httpx.Client(base_url=url, timeout=30)) for url in urls]
    try:
        for n, person in enumerate(registered):
            reply, _ = answered(with_portals, n, lambda p, me=person: p.login(me, PASSWORD))
            assert reply is not None and reply.status_code == 201, person.card.card_no
    finally:
        for portal in with_portals:
            portal.http.close()

    def resets_to(address: str) -> list:
        return [m for m in mailbox.to(address) if "/reset-password?token=" in body_text(m)]

    until(
        lambda: all(resets_to(a) for a in outcomes.resets),
        "a reset mail never arrived",
        within=60,
    )
    time.sleep(1.0)  # a second copy would have arrived by now
    ids = Counter(str(m["Message-ID"]) for m in mailbox.all())
    assert [i for i, n in ids.items() if n > 1] == []  # no request was sent twice
    for address, attempts in outcomes.resets.items():
        # A request retried after a 503 may have been taken the first time too: at most one
        # mail per attempt; one asked once is mailed exactly once.
        assert 1 <= len(resets_to(address)) <= attempts, address


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _node_back(system: RunningSystem, node: str) -> bool:
    try:
        node_pid(system, node)
    except ValueError:
        return False
    return True
