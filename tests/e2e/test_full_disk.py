"""A full disk: the services' data dir on a small tmpfs (mounted here, as root) that a filler
file fills up. Writes answer 503 `unavailable` (typed, no stack), reads keep working, nothing
stored is lost or corrupted, and once space is freed writes work again, without a restart.

Real processes (`python -m ...` for each service); nats-server's JetStream store and the logs
are on another file system: the data dir is what fills.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from cardreg_testkit.nats import NatsProcess
from cardreg_testkit.people import load_wallet

from .system import Portal, ServiceProcesses, error_code, free_port

PASSWORD = "pebble-lantern-thistle"
DISK_MIB = 24


class Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m,mode=0700", "tmpfs", str(mount)],
        check=True,
        timeout=10,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=10)


def fill(disk: Path) -> Path:
    """Write a filler file until the file system refuses: ENOSPC."""
    filler = disk / "filler"
    chunk = b"\0" * (64 * 1024)
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    while True:  # the last bytes too
        try:
            with filler.open("ab", buffering=0) as out:
                out.write(b"\0" * 512)
        except OSError:
            break
    assert shutil.disk_usage(disk).free < 4096
    return filler


def test_full_disk_refuses_writes_as_unavailable_keeps_reads_and_recovers(
    small_disk: Path, tmp_path: Path
):
    nats = NatsProcess(tmp_path / "nats")
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    data = small_disk / "data"
    services = ServiceProcesses(data, nats.url, smtp.port, log_dir=tmp_path / "logs").start()
    try:
        wallet = tmp_path / "wallet.jsonl"
        subprocess.run(
            [sys.executable, "-m", "cardreg.cli", "seed", "--data-dir", str(data),
             "--citizens", "40", "--foreigners", "0", "--wallet", str(wallet)],
            check=True, capture_output=True, env=services.env, timeout=120,
        )  # fmt: skip
        people = list(load_wallet(wallet))
        stored, newcomers = people[:5], people[5:]
        with httpx.Client(base_url=services.url, timeout=30) as http:
            portal = Portal(http)
            for me in stored:
                assert portal.register(me, PASSWORD).status_code == 201
            bearer = portal.bearer(stored[0], PASSWORD)

            filler = fill(small_disk)
            # Writes: registrations until the disk refuses one (the WAL may hold a few more
            # pages first). Each answer is a success or a typed 503, never a 500.
            registered_while_full, refused = [], 0
            for me in newcomers[:20]:
                reply = portal.register(me, PASSWORD)
                if reply.status_code == 201:
                    registered_while_full.append(me)
                    continue
                assert reply.status_code == 503, reply.text
                assert error_code(reply) == "unavailable"
                assert "Traceback" not in reply.text and "sqlite" not in reply.text.lower()
                refused += 1
                if refused >= 3:
                    break
            assert refused >= 3, "the full disk refused no write"
            login = portal.login(stored[1], PASSWORD)  # a session is a write too
            assert login.status_code in (201, 503), login.text
            if login.status_code == 503:
                assert error_code(login) == "unavailable"
            # Reads keep working.
            for me in stored:
                assert portal.lookup(me).json() == {"registered": True, "status": "active"}
            assert http.get("/api/v1/account", headers=bearer).status_code == 200
            assert http.get("/.well-known/jwks.json").status_code == 200
            assert not services.exited(), services.logs()

            filler.unlink()  # space again: no restart
            pending = [me for me in newcomers[:20] if me not in registered_while_full]
            reply = portal.register(pending[0], PASSWORD)
            assert reply.status_code == 201, reply.text
            for me in [*stored, *registered_while_full, pending[0]]:
                assert portal.login(me, PASSWORD).status_code == 201
        assert not services.exited(), services.logs()
    finally:
        codes = services.stop()
        smtp.stop()
        nats.close()
    assert codes == dict.fromkeys(ServiceProcesses.MODULES, 0), services.logs()
    logs = services.logs()
    assert "write refused: SQLITE_FULL" in logs
    assert "Traceback" not in logs
    for name in ("identity.db", "registry.db", "mailer.db"):
        db = sqlite3.connect(data / name)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), name
        finally:
            db.close()
