"""The supervisor's rules on real (tiny) processes, with its clock constants shrunk: backoff
doubling to its cap, back to the start after a healthy run, giving up on a child that keeps
failing before it is ready, and stopping in reverse order."""

from __future__ import annotations

import asyncio
import io
import re
import sys

import pytest
from cardreg import supervisor
from cardreg.supervisor import Child, GiveUp, Supervisor


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(supervisor, "BACKOFF_START", 0.01)
    monkeypatch.setattr(supervisor, "BACKOFF_MAX", 0.04)
    monkeypatch.setattr(supervisor, "HEALTHY_RESET", 0.3)
    monkeypatch.setattr(supervisor, "TICK", 0.005)


def _lives(seconds: float) -> list[str]:
    return [sys.executable, "-c", f"import time; time.sleep({seconds})"]


async def _ready(child: Child) -> bool:
    return True


async def _never(child: Child) -> bool:
    return False


def _delays(out: io.StringIO, name: str) -> list[float]:
    return [
        float(d)
        for d in re.findall(rf"{name} exited .*; restarting in ([0-9.]+) s", out.getvalue())
    ]


async def _until(sup: Supervisor, stop: asyncio.Event, done) -> None:
    async def watch() -> None:
        while not done():
            await asyncio.sleep(0.01)
        stop.set()

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(sup.run(stop), 60)
    await watcher


async def test_backoff_doubles_to_its_cap_and_starts_over_after_a_healthy_run(monkeypatch):
    monkeypatch.setattr(supervisor, "START_FAILURES", 100)
    out, stop = io.StringIO(), asyncio.Event()
    sup = Supervisor(out=out)
    # Never ready, so never healthy however slow the machine: the backoff only grows.
    flaky = sup.start(Child("flaky", lambda: _lives(0.01), _never))
    steady = sup.start(Child("steady", lambda: _lives(0.6), _ready))  # healthy > 0.3 s each run
    try:
        await _until(sup, stop, lambda: flaky.restarts >= 6 and steady.restarts >= 2)
    finally:
        sup.stop_all()
    assert _delays(out, "flaky")[:6] == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]
    assert set(_delays(out, "steady")) == {0.01}
    assert "flaky exited with status 0; restarting in 0.01 s" in out.getvalue()


async def test_a_child_that_never_gets_ready_is_given_up_after_five_starts():
    out, stop = io.StringIO(), asyncio.Event()
    sup = Supervisor(out=out)
    sup.start(Child("broken", lambda: [sys.executable, "-c", "raise SystemExit(3)"], _never))
    bystander = sup.start(Child("bystander", lambda: _lives(60), _ready))
    try:
        with pytest.raises(
            GiveUp, match="broken keeps failing at start-up: it exited with status 3"
        ):
            await asyncio.wait_for(sup.run(stop), 60)
    finally:
        sup.stop_all()
    assert _delays(out, "broken") == [0.01, 0.02, 0.04, 0.04]  # the fifth failure gives up
    assert bystander.proc.poll() is not None  # stopped along with everything
    assert bystander.restarts == 0


async def test_a_child_killed_by_a_signal_is_named_so_and_comes_back():
    out, stop = io.StringIO(), asyncio.Event()
    sup = Supervisor(out=out)
    child = sup.start(Child("victim", lambda: _lives(60), _ready))
    first = child.pid
    try:
        await _until(sup, stop, lambda: child.ready_since is not None)
        child.proc.kill()
        stop.clear()
        await _until(sup, stop, lambda: child.pid != first and child.ready_since is not None)
    finally:
        sup.stop_all()
    assert "victim was killed by SIGKILL; restarting in 0.01 s" in out.getvalue()
    assert child.proc.returncode == -15  # SIGTERM from stop_all
