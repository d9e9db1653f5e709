"""`cardreg backup` while `cardreg up` runs under a light load of registrations and logins,
`cardreg restore` elsewhere, `cardreg up` on the restored data: every account that existed
when the backup began logs in; one registered after it finished does not exist there."""

from __future__ import annotations

import threading

import httpx

from .system import Portal, RunningSystem, error_code

PASSWORD = "granite-willow-ferry"


def test_online_backup_restores_every_account_that_existed(tmp_path):
    source = RunningSystem(tmp_path / "source").start()
    try:
        people = source.seed(tmp_path / "wallet.jsonl", citizens=24, foreigners=0)
        before, during, after = people[:10], people[10:20], people[20:]
        with httpx.Client(base_url=source.url, timeout=30) as http:
            portal = Portal(http)
            for me in before:
                assert portal.register(me, PASSWORD).status_code == 201

        stop = threading.Event()
        failures: list[str] = []

        def load() -> None:
            """Registrations and logins while the backup runs."""
            with httpx.Client(base_url=source.url, timeout=30) as http:
                portal = Portal(http)
                queue = list(during)
                while not stop.is_set():
                    if queue and portal.register(queue.pop(), PASSWORD).status_code != 201:
                        failures.append("register")
                    if portal.login(before[len(queue) % 10], PASSWORD).status_code != 201:
                        failures.append("login")

        worker = threading.Thread(target=load)
        worker.start()
        try:
            backup = tmp_path / "backups" / "cardreg.tar.gz"
            done = source.cardreg("backup", "--data-dir", str(source.data_dir), "--to", str(backup))
            assert "backed up" in done.stdout
        finally:
            stop.set()
            worker.join(timeout=60)
        assert not failures, failures
        assert oct(backup.stat().st_mode & 0o777) == "0o600"
        with httpx.Client(base_url=source.url, timeout=30) as http:
            assert Portal(http).register(after[0], PASSWORD).status_code == 201
    finally:
        source.stop()

    target = tmp_path / "restored"
    restored = source.cardreg("restore", "--from", str(backup), "--data-dir", str(target))
    assert restored.returncode == 0, restored.stderr
    again = source.cardreg("restore", "--from", str(backup), "--data-dir", str(target), check=False)
    assert again.returncode == 1 and "not empty" in again.stderr

    system = RunningSystem(target).start()
    try:
        with httpx.Client(base_url=system.url, timeout=30) as http:
            portal = Portal(http)
            for me in before:
                login = portal.login(me, PASSWORD)
                assert login.status_code == 201, login.text
            # Registered after the backup: not in it.
            assert error_code(portal.login(after[0], PASSWORD)) == "invalid_credentials"
            assert portal.lookup(after[0]).json()["registered"] is False
            # Tokens of the restored key set verify: the account answers with one.
            bearer = portal.bearer(before[0], PASSWORD)
            assert http.get("/api/v1/account", headers=bearer).status_code == 200
    finally:
        system.stop()
