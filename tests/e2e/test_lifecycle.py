"""`cardreg up` as an operator sees it: restarts keep every account; stopping leaves nothing;
the bus refuses strangers and its secrets stay in owner-only files."""

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

    system.start(extra=("--no-nats-tls",))  # the same data dir, now without TLS on the bus
    try:
        assert system.nats_url.startswith("nats://127.0.0.1:")
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


def _secrets(system) -> dict[str, str]:
    folder = system.data_dir / "nats" / "secrets"
    return {p.stem: p.read_text().strip() for p in folder.glob("*.password")}


async def test_the_bus_refuses_anonymous_clients_and_other_users_subjects(system):
    import contextlib

    import nats
    from cardreg_shared import bus
    from cardreg_shared.subjects import SESSION_CREATE
    from nats.aio.client import Client
    from nats.errors import Error as NatsError

    assert system.nats_url.startswith("tls://127.0.0.1:")
    with_ca = bus.Credentials(ca_file=system.nats_credentials("ops").ca_file).options("anyone")
    for options in ({}, with_ca):  # without credentials: plain, and TLS with the CA
        nc = Client()
        try:
            with pytest.raises((NatsError, OSError, TimeoutError)):
                await nc.connect(
                    system.nats_url, allow_reconnect=False, connect_timeout=2, **options
                )
        finally:
            with contextlib.suppress(OSError):  # the server may have reset the socket
                await nc.close()

    violations: list[str] = []

    async def on_error(exc: Exception) -> None:
        violations.append(str(exc))

    import asyncio

    nc = await nats.connect(
        system.nats_url,
        inbox_prefix="_INBOX.identity",
        error_cb=on_error,
        allow_reconnect=False,
        **system.nats_credentials("identity").options("identity"),
    )
    try:
        await nc.subscribe(SESSION_CREATE.name, queue="registry")  # the registry's work
        for _ in range(200):
            if violations:
                break
            await asyncio.sleep(0.01)
    finally:
        await nc.close()
    assert f'subscription to "{SESSION_CREATE.name}"' in " ".join(violations).lower()


def test_secrets_stay_in_owner_only_files_never_on_command_lines_or_in_logs(system):
    import stat

    passwords = _secrets(system)
    assert set(passwords) == {"identity", "registry", "mailer", "gateway", "ops"}
    assert len(set(passwords.values())) == 5 and all(len(p) >= 40 for p in passwords.values())
    nats_dir = system.data_dir / "nats"
    for folder in (system.data_dir, nats_dir / "secrets", nats_dir / "tls"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in [*(nats_dir / "secrets").iterdir(), nats_dir / "tls" / "server.key"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    up = system.proc.pid
    with open(f"/proc/{up}/status") as status:  # preexec_fn is safe only without threads
        assert "Threads:\t1\n" in status.read()
    children = _descendants(up)
    assert len(children) >= 6  # nats-server, mail catcher, four services
    for pid in [up, *children]:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            cmdline = raw.read().decode(errors="replace")
        with open(f"/proc/{pid}/environ", "rb") as raw:
            environ = raw.read().decode(errors="replace")
        for password in passwords.values():
            assert password not in cmdline and password not in environ, pid
    logs = [system.log, nats_dir / "nats-server.log"]
    for log in logs:
        text = log.read_text(errors="replace")
        assert text and not any(p in text for p in passwords.values()), log
