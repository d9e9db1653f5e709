"""`cardreg backup` and `cardreg restore`: a data directory in one archive, and back.

The backup is taken online, while `cardreg up` (or the services) run: each service's sqlite
database (`*.db` in the data directory: identity, registry with its signing key set, mailer)
is copied with sqlite's backup API, a consistent snapshot of that database even while it is
being written; beside them what the databases cannot be read without or the bus cannot be
joined without: the registry secret (it seals the key set and keys the ID-number hashes),
an older single signing key if one is still there, the NATS passwords and the NATS TLS
material of `cardreg up`. A manifest lists every member with its SHA-256; `restore` checks it.

Not in the archive: JetStream's store (streams are set up again at start; the audit trail
`REGISTRY_EVENTS` has its own backup, `nats stream backup`), the local mail catcher's mail,
logs. Each database is a snapshot of its own: the registry's accounts refer to identity's
people, which are reference data written before any account, so identity is copied first.

`restore` unpacks into a directory that does not exist or is empty, and refuses anything else:
it never mixes a backup with live data.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

FORMAT = 1
MANIFEST = "manifest.json"
# Database files first in this order (see the module docstring), then any other `*.db`.
DATABASE_ORDER = ("identity.db", "registry.db", "mailer.db")
SECRET_FILES = ("registry-secret", "registry-signing-key.pem")
SECRET_DIRS = (("nats", "secrets", "*.password"), ("nats", "tls", "*"))


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (no personal data)."""


def _databases(data_dir: Path) -> list[Path]:
    found = {p.name: p for p in data_dir.glob("*.db") if p.is_file()}
    ordered = [found.pop(name) for name in DATABASE_ORDER if name in found]
    return ordered + [found[name] for name in sorted(found)]


def _secrets(data_dir: Path) -> list[Path]:
    files = [data_dir / name for name in SECRET_FILES if (data_dir / name).is_file()]
    for *folder, pattern in SECRET_DIRS:
        files += sorted(p for p in data_dir.joinpath(*folder).glob(pattern) if p.is_file())
    return files


def snapshot(database: Path, target: Path) -> None:
    """A consistent copy of `database` with sqlite's online backup API (read-only source)."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    finally:
        source.close()
    check = sqlite3.connect(target)
    try:
        (result,) = check.execute("PRAGMA integrity_check").fetchone()
    finally:
        check.close()
    if result != "ok":
        raise BackupError(f"the copy of {database.name} failed its integrity check")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(data_dir: Path, archive: Path) -> dict:
    """Write the archive (via a temporary file beside it, renamed at the end); the manifest."""
    data_dir = data_dir.resolve()
    databases = _databases(data_dir)
    if not databases:
        raise BackupError(f"no database (*.db) in {data_dir}")
    archive = archive.resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="cardreg-backup-") as scratch:
        for database in databases:
            copy = Path(scratch) / database.name
            snapshot(database, copy)
            members.append((database.name, copy))
        members += [(p.relative_to(data_dir).as_posix(), p) for p in _secrets(data_dir)]
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {name: _sha256(path) for name, path in members},
        }
        partial = archive.with_name(f".{archive.name}.partial")
        old_umask = os.umask(0o077)  # the archive holds secrets: the owner's alone
        try:
            _write(partial, manifest, members)
            partial.replace(archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            os.umask(old_umask)
    return manifest


def _write(partial: Path, manifest: dict, members: list[tuple[str, Path]]) -> None:
    with tarfile.open(partial, "w:gz") as tar:
        body = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(body))
        for name, path in members:
            info = tar.gettarinfo(str(path), arcname=name)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with path.open("rb") as f:
                tar.addfile(info, f)


def restore(archive: Path, data_dir: Path) -> dict:
    """Unpack `archive` into `data_dir`, which must not exist or be empty; the manifest."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty: restore only into a new, empty directory")
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - the with below closes it
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a cardreg backup ({type(exc).__name__})") from exc
    with tar:
        try:
            manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
        except (KeyError, AttributeError, ValueError) as exc:
            raise BackupError(f"{archive} has no readable manifest") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is of an unknown backup format")
        names = set(tar.getnames()) - {MANIFEST}
        if names != set(manifest["files"]):
            raise BackupError(f"{archive} does not hold what its manifest lists")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as scratch:
            # "data": no absolute paths, no links out, no device files (tarfile's own filter).
            tar.extractall(scratch, members=[m for m in tar if m.name != MANIFEST], filter="data")
            for name, digest in manifest["files"].items():
                if _sha256(Path(scratch, name)) != digest:
                    raise BackupError(f"{name} in {archive} is damaged (checksum)")
            for name in manifest["files"]:
                target = data_dir / name
                for folder in reversed(target.relative_to(data_dir).parents[:-1]):
                    (data_dir / folder).mkdir(exist_ok=True, mode=0o700)
                Path(scratch, name).replace(target)
                os.chmod(target, 0o600)
    return manifest


def backup_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cardreg backup",
        description="Back up a data directory into one archive, online (while it runs).",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the data directory")
    parser.add_argument("--to", type=Path, required=True, metavar="FILE", help="the archive")
    args = parser.parse_args(argv)
    try:
        manifest = backup(args.data_dir, args.to)
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"cardreg backup: {_reason(exc)}", file=sys.stderr)
        return 1
    print(f"backed up {len(manifest['files'])} files to {args.to}")
    return 0


def restore_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cardreg restore",
        description="Restore a `cardreg backup` archive into a new, empty data directory.",
    )
    parser.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    parser.add_argument("--data-dir", type=Path, required=True, help="new or empty directory")
    args = parser.parse_args(argv)
    try:
        manifest = restore(args.source, args.data_dir)
    except (BackupError, OSError, tarfile.TarError) as exc:
        print(f"cardreg restore: {_reason(exc)}", file=sys.stderr)
        return 1
    print(f"restored {len(manifest['files'])} files into {args.data_dir}")
    return 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BackupError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return type(exc).__name__
