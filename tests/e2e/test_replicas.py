"""`cardreg up --replicas 2 --database-url postgresql://…`: two of every service (the gateways
on consecutive ports), sharing PostgreSQL, the key set and the challenge buckets. A challenge from
one gateway is used at the other; a registry replica killed with SIGKILL costs at most a
retried 503; a reset mail arrives once. Without PostgreSQL, replicas are refused."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cardreg_testkit.people import load_wallet

from .system import CARDREG, Mailbox, Portal, RunningSystem
from .test_lifecycle import _alive, _descendants
from .test_nats_cluster import _until_answered
from .test_supervision import _cmdline

PASSWORD = "tea-mountain-harbour"


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    running.start(extra=("--replicas", "2", "--database-url", postgres_database_url))
    try:
        yield running
    finally:
        running.stop()


def _registry_pids(system: RunningSystem) -> list[int]:
    assert system.proc is not None
    return [
        pid
        for pid in _descendants(system.proc.pid)
        if "cardreg_registry" in _cmdline(pid) and _alive(pid)
    ]


def test_two_of_every_service_share_the_work(system, postgres_database_url):
    wallet = system.data_dir / "wallet.jsonl"
    system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "6", "--foreigners", "0",
        "--wallet", str(wallet),
    )  # fmt: skip
    people = list(load_wallet(wallet))
    second = f"http://127.0.0.1:{system.port + 1}"
    with (
        httpx.Client(base_url=system.url, timeout=30) as one,
        httpx.Client(base_url=second, timeout=30) as two,
    ):
        first, other = Portal(one), Portal(two)
        me = people.pop()
        # The challenge from one gateway, the card read it signs sent to the other.
        nonce = first.challenge()
        body = {"card": other.card(me, nonce), "password": PASSWORD, **me.proof()}
        body["email"] = "mei@example.com"
        assert two.post("/api/v1/registrations", json=body).status_code == 201
        assert first.login(me, PASSWORD).status_code == 201
        assert other.login(me, PASSWORD).status_code == 201

        pids = _registry_pids(system)
        assert len(pids) == 2
        os.kill(pids[0], signal.SIGKILL)
        registered = [me]
        for n, person in enumerate(people):
            portal = first if n % 2 else other
            reply = _until_answered(lambda p=person, portal=portal: portal.register(p, PASSWORD))
            assert reply.status_code == 201, reply.text
            registered.append(person)
        assert _until_answered(lambda: first.forgot(me)).status_code == 202
        for n, person in enumerate(registered):
            portal = first if n % 2 else other
            assert (
                _until_answered(
                    lambda p=person, portal=portal: portal.login(p, PASSWORD)
                ).status_code
                == 201
            )
        mailbox = Mailbox(system.data_dir / "mail")
        assert len(mailbox.wait_for("mei@example.com")) == 1
        deadline = time.monotonic() + 15
        while len(_registry_pids(system)) < 2:  # the killed replica is restarted
            assert time.monotonic() < deadline
            time.sleep(0.2)
    time.sleep(1.0)  # a second copy of the reset mail would have arrived by now
    assert len(mailbox.to("mei@example.com")) == 1


def test_replicas_on_sqlite_are_refused(tmp_path: Path):
    result = subprocess.run(
        [str(CARDREG), "up", "--data-dir", str(tmp_path / "d"), "--replicas", "2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--replicas 2 needs --database-url" in result.stderr
