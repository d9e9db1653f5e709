"""`cardreg up --nats-nodes 3 --database-url postgresql://…`: three nats-servers routed to
each other on loopback, the streams and the challenge buckets with three copies, the services on
PostgreSQL. The node leading the MAIL stream is killed with SIGKILL: registrations, logins and
a reset mail go on (a retriable 503 at most while JetStream elects another leader), the mail
arrives once, and the supervisor brings the node back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cardreg_shared.subjects import MAIL_STREAM, READER_EVENTS, REGISTRY_EVENTS
from cardreg_testkit.people import load_wallet

from .system import ChallengeUnavailable, Mailbox, Portal, RunningSystem
from .test_lifecycle import _alive, _descendants
from .test_supervision import _cmdline

PASSWORD = "tea-mountain-harbour"
RECOVER_WITHIN = 15.0

CHALLENGE_BUCKETS = ("KV_used_nonces", "KV_challenge_keys")


@pytest.fixture
def system(tmp_path: Path, postgres_database_url: str) -> Iterator[RunningSystem]:
    running = RunningSystem(tmp_path / "system")
    running.start(extra=("--nats-nodes", "3", "--database-url", postgres_database_url))
    try:
        yield running
    finally:
        running.stop()


def _node_pid(system: RunningSystem, node: str) -> int:
    """The live nats-server of node `node` (server name cardreg-N) among cardreg up's children."""
    assert system.proc is not None
    config = f"nats-server-{node.rsplit('-', 1)[1]}.conf"
    (pid,) = [p for p in _descendants(system.proc.pid) if config in _cmdline(p) and _alive(p)]
    return pid


def _until_answered(call, *, within: float = RECOVER_WITHIN) -> httpx.Response:
    """The call's answer, retried while it is a retriable 503."""
    deadline = time.monotonic() + within
    while True:
        try:
            reply = call()
        except ChallengeUnavailable as unavailable:  # the card read's challenge, before the call
            reply = unavailable.reply
        if reply.status_code != 503 or time.monotonic() > deadline:
            return reply
        time.sleep(0.2)


async def _replicas_and_mail_leader(system: RunningSystem) -> tuple[dict[str, int], str]:
    """Copies of each stream and bucket, and the server leading MAIL, as ops sees them."""
    nc = await system.connect()
    try:
        js = nc.jetstream()
        names = (MAIL_STREAM.name, REGISTRY_EVENTS.name, READER_EVENTS.name, *CHALLENGE_BUCKETS)
        copies = {name: (await js.stream_info(name)).config.num_replicas for name in names}
        return copies, (await js.stream_info(MAIL_STREAM.name)).cluster.leader
    finally:
        await nc.close()


def test_a_stream_leader_dies_and_nothing_is_lost(system, postgres_database_url):
    wallet = system.data_dir / "wallet.jsonl"
    system.cardreg(
        "seed", "--database-url", postgres_database_url, "--citizens", "4", "--foreigners", "0",
        "--wallet", str(wallet),
    )  # fmt: skip
    me, other, third, *_ = list(load_wallet(wallet))
    mailbox = Mailbox(system.data_dir / "mail")
    with httpx.Client(base_url=system.url, timeout=30) as http:
        portal = Portal(http)
        assert portal.register(me, PASSWORD, email="mei@example.com").status_code == 201
        assert portal.login(me, PASSWORD).status_code == 201

        copies, leader = asyncio.run(_replicas_and_mail_leader(system))
        assert set(copies.values()) == {3}, copies

        os.kill(_node_pid(system, leader), signal.SIGKILL)
        assert _until_answered(lambda: portal.forgot(me)).status_code == 202
        assert _until_answered(lambda: portal.register(other, PASSWORD)).status_code == 201
        assert _until_answered(lambda: portal.login(other, PASSWORD)).status_code == 201
        assert _until_answered(lambda: portal.login(me, PASSWORD)).status_code == 201
        assert len(mailbox.wait_for("mei@example.com")) == 1

        deadline = time.monotonic() + RECOVER_WITHIN
        restarted = f"cardreg: nats-server-{leader.rsplit('-', 1)[1]} was killed by SIGKILL"
        while restarted not in system.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "the killed node was not restarted"
            time.sleep(0.2)
        assert _until_answered(lambda: portal.register(third, PASSWORD)).status_code == 201
        assert _until_answered(lambda: portal.login(third, PASSWORD)).status_code == 201
    time.sleep(1.0)  # a second copy of the reset mail would have arrived by now
    assert len(mailbox.to("mei@example.com")) == 1
