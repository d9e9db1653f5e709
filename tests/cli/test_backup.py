"""`cardreg backup` / `restore` on files: what goes in, what stays out, what is refused."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from cardreg import backup


def data_dir(root: Path) -> Path:
    root.mkdir()
    db = sqlite3.connect(root / "registry.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO accounts VALUES (?)", [(n,) for n in range(100)])
    db.commit()  # left open: the WAL holds committed rows the main file may not
    (root / "registry-secret").write_text("secret\n")
    (root / "nats" / "secrets").mkdir(parents=True)
    (root / "nats" / "secrets" / "registry.password").write_text("pw\n")
    (root / "nats" / "secrets" / "nats-server.conf").write_text("generated\n")
    (root / "wallet.jsonl").write_text("card keys\n")
    (root / "mail").mkdir()
    return root


def test_restore_gives_back_the_databases_and_secrets_only(tmp_path):
    source = data_dir(tmp_path / "data")
    manifest = backup.backup(source, tmp_path / "b.tar.gz")
    assert set(manifest["files"]) == {
        "registry.db",
        "registry-secret",
        "nats/secrets/registry.password",
    }
    backup.restore(tmp_path / "b.tar.gz", tmp_path / "new")
    copy = sqlite3.connect(tmp_path / "new" / "registry.db")
    assert copy.execute("SELECT COUNT(*) FROM accounts").fetchone() == (100,)
    assert (tmp_path / "new" / "nats" / "secrets" / "registry.password").read_text() == "pw\n"
    assert not (tmp_path / "new" / "wallet.jsonl").exists()


def test_restore_refuses_a_non_empty_dir_and_a_damaged_archive(tmp_path):
    source = data_dir(tmp_path / "data")
    archive = tmp_path / "b.tar.gz"
    backup.backup(source, archive)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(archive, source)

    members = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            members[member.name] = tar.extractfile(member).read()
    members["registry-secret"] = b"tampered\n"
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.restore(damaged, tmp_path / "new")

    escaping = tmp_path / "escaping.tar.gz"
    with tarfile.open(escaping, "w:gz") as tar:
        body = json.dumps({"format": 1, "files": {"../outside": "0"}}).encode()
        for name, data in (("manifest.json", body), ("../outside", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(tarfile.OutsideDestinationError):
        backup.restore(escaping, tmp_path / "other")
    assert not (tmp_path / "outside").exists()
    with pytest.raises(backup.BackupError, match="not a cardreg backup"):
        backup.restore(source / "registry-secret", tmp_path / "third")


def test_backup_of_a_dir_without_databases_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert backup.backup_main(["--data-dir", str(tmp_path / "empty"), "--to", "x.tgz"]) == 1
    assert "no database" in capsys.readouterr().err
