"""`cardreg up` as an operator sees it: restarts keep every account; stopping leaves nothing."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from .system import Portal, RunningSystem

PASSWORD = "tea-mountain-harbour"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_restart_keeps_every_account_and_stop_leaves_no_process(tmp_path, sig):
    system = RunningSystem(tmp_path / "data").start()
    try:
        people = system.seed(tmp_path / "wallet.jsonl", citizens=2, foreigners=1)
        with httpx.Client(base_url=system.url, timeout=30) as http:
            for me in people:
                assert Portal(http).register(me, PASSWORD).status_code == 201
        children = _descendants(system.proc.pid)
        assert len(children) >= 4  # nats-server, identity, registry, gateway
    finally:
        assert system.stop(sig) == 0
    assert not [pid for pid in children if _alive(pid)]

    system.start()
    try:
        with httpx.Client(base_url=system.url, timeout=30) as http:
            portal = Portal(http)
            for me in people:
                assert portal.lookup(me).json() == {"registered": True, "status": "active"}
                assert portal.login(me, PASSWORD).status_code == 201
    finally:
        system.stop()


async def test_discovery_lists_every_service(system):
    import json

    import nats

    nc = await system.connect("ops")
    try:
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.publish("$SRV.INFO", b"", reply=inbox)
        names: dict[str, set[str]] = {}
        try:
            while True:
                info = json.loads((await sub.next_msg(timeout=1)).data)
                names[info["name"]] = {e["subject"] for e in info["endpoints"] or []}
        except nats.errors.TimeoutError:
            pass
    finally:
        await nc.close()
    from cardreg_shared.subjects import owned_by

    assert set(names) >= {"identity", "registry", "gateway"}
    for service in ("identity", "registry"):
        assert names[service] == {s.name for s in owned_by(service)}
