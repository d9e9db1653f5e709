"""The PostgreSQL server of the tests, and a fresh schema for each test.

The server is `CARDREG_TEST_POSTGRES_URL` (default: postgres on 127.0.0.1:5432, trust auth, as
this machine kind runs one). When nothing answers there, a throwaway cluster of Debian's
`postgresql` (which `scripts/system-deps.sh` installs) is started for the session on a free
loopback port, in a temporary directory: as the `postgres` user when the tests run as root,
since initdb refuses root. It is stopped at the end of the session.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from cardreg_shared.postgres import with_schema
from psycopg import sql

from .net import free_port

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_SECONDS = 60


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "no PostgreSQL answers on CARDREG_TEST_POSTGRES_URL and none is installed: "
            "run scripts/system-deps.sh (Debian's postgresql)"
        )
    return found[-1].parent


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=START_TIMEOUT_SECONDS)


# The throwaway clusters running now: URL -> pg_ctl command (for `restart_cluster`).
_CLUSTERS: dict[str, list[str]] = {}


def restart_cluster(url: str) -> None:
    """Restart a throwaway cluster (fast shutdown, then start on the same port and data)."""
    _run(_as_postgres([*_CLUSTERS[url], "-m", "fast", "-w", "restart"]))


def stop_cluster(url: str) -> None:
    _run(_as_postgres([*_CLUSTERS[url], "-m", "fast", "-w", "stop"]))


def start_cluster(url: str) -> None:
    _run(_as_postgres([*_CLUSTERS[url], "-w", "start"]))


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A cluster of its own in a temporary directory, on a free port; removed afterwards."""
    bin_dir = _bin_dir()
    home = Path(tempfile.mkdtemp(prefix="cardreg-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    port = free_port()
    user = "postgres"
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user]
    _run(_as_postgres(initdb))
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log")]
    _run(_as_postgres([*ctl, "-o", options, "-w", "start"]))
    url = f"postgresql://{user}@127.0.0.1:{port}/postgres"
    _CLUSTERS[url] = [*ctl, "-o", options]
    try:
        yield url
    finally:
        _CLUSTERS.pop(url, None)
        subprocess.run(
            _as_postgres([*ctl, "-m", "immediate", "stop"]), check=False, capture_output=True
        )
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    url = os.environ.get("CARDREG_TEST_POSTGRES_URL", DEFAULT_URL)
    if answers(url):
        yield url
        return
    with throwaway_cluster() as started:
        yield started


def new_schema_name() -> str:
    return f"test_{secrets.token_hex(6)}"


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A URL on a schema of its own (created by whoever connects first: the services create
    theirs), dropped with everything in it afterwards."""
    schema = new_schema_name()
    try:
        yield with_schema(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A URL on a database of its own (where each service takes its own schema), dropped with
    everything in it afterwards."""
    name = new_schema_name()
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
