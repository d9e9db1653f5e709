"""`cardreg up` heals: every child killed with SIGKILL in turn, under a light login load.

A load thread registers new people and logs registered ones in, recording when each call
started and how it ended. For each child (identity, registry, mailer, gateway, nats-server):
kill it, wait for its replacement, then for a login that started after the replacement and
succeeded — within 10 s. At the end every account that got a 201 logs in.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .system import Portal, RunningSystem
from .test_lifecycle import _alive, _descendants

PASSWORD = "tea-mountain-harbour"
HEAL_WITHIN = 10.0
# How each child shows in its command line.
CHILDREN = {
    "identity": "cardreg_identity",
    "registry": "cardreg_registry",
    "mailer": "cardreg_mailer",
    "gateway": "cardreg_gateway",
    "nats-server": "nats-server",
}


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            return raw.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children_of(pid: int) -> dict[str, int]:
    """The live child processes of `pid` by name (see CHILDREN)."""
    found = {}
    for child in _descendants(pid):
        line = _cmdline(child)
        for name, mark in CHILDREN.items():
            if mark in line and _alive(child):
                found[name] = child
    return found


@dataclass
class Load:
    """Registrations and logins in a thread; outcomes with their start times."""

    url: str
    people: list
    registered: list = field(default_factory=list)
    logins: list[tuple[float, int]] = field(default_factory=list)  # (started, status)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        rng = random.Random(7)
        with httpx.Client(base_url=self.url, timeout=15) as http:
            portal = Portal(http)
            while not self.stop.is_set():
                if self.people and (len(self.registered) < 3 or rng.random() < 0.3):
                    me = self.people.pop()
                    status = self._call(lambda me=me: portal.register(me, PASSWORD))
                    if status == 201:
                        self.registered.append(me)
                    elif status in (0, 503):
                        # Down meanwhile, and answered at once: the person tries again later
                        # (the people would otherwise run out within one outage).
                        self.people.insert(0, me)
                elif self.registered:
                    me = rng.choice(self.registered)
                    started = time.monotonic()
                    status = self._call(lambda me=me: portal.login(me, PASSWORD))
                    self.logins.append((started, status))
                self.stop.wait(0.02)

    def _call(self, call) -> int:
        try:
            return call().status_code
        except (httpx.HTTPError, AssertionError):  # gateway down: refused, reset, no challenge
            return 0

    def logged_in_since(self, since: float) -> bool:
        return any(started >= since and status == 201 for started, status in self.logins)


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return result


def test_every_child_killed_in_turn_comes_back_and_no_account_is_lost(tmp_path: Path):
    system = RunningSystem(tmp_path / "data").start()
    try:
        people = system.seed(tmp_path / "wallet.jsonl", citizens=80, foreigners=0)
        load = Load(system.url, people)
        thread = threading.Thread(target=load.run, daemon=True)
        thread.start()
        _wait(lambda: load.logged_in_since(0), 60, "no login succeeded before the kills")

        healed: dict[str, float] = {}
        for name in CHILDREN:
            old = _children_of(system.proc.pid)[name]
            os.kill(old, signal.SIGKILL)
            new = _wait(
                lambda name=name, old=old: (
                    (pid := _children_of(system.proc.pid).get(name)) and pid != old and pid
                ),
                30,
                f"{name} did not come back",
            )
            restarted = time.monotonic()
            _wait(
                lambda since=restarted: load.logged_in_since(since),
                HEAL_WITHIN,
                f"no login within {HEAL_WITHIN} s of {name}'s restart (pid {new})",
            )
            healed[name] = time.monotonic() - restarted
        load.stop.set()
        thread.join(timeout=30)
        assert len(load.registered) > 3

        with httpx.Client(base_url=system.url, timeout=30) as http:
            portal = Portal(http)
            failed = [
                me.card.card_no
                for me in load.registered
                if portal.login(me, PASSWORD).status_code != 201
            ]
        assert failed == [], f"{len(failed)} of {len(load.registered)} accounts cannot log in"
        output = system.log.read_text(errors="replace")
        for name in CHILDREN:
            assert f"cardreg: {name} was killed by SIGKILL; restarting in 0.5 s" in output
        print(f"login again after restart (s): {healed}")
        children = _descendants(system.proc.pid)
    finally:
        assert system.stop() == 0
    assert not [pid for pid in children if _alive(pid)]


def test_a_child_that_keeps_failing_at_start_up_stops_everything(tmp_path: Path):
    """The gateway's HTTP port is taken: it exits at every start, and after five tries
    `cardreg up` stops the rest and exits 1."""
    system = RunningSystem(tmp_path / "data")
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", system.port))
        squatter.listen()
        with pytest.raises(RuntimeError, match="cardreg up exited"):
            system.start(timeout=120)
    assert system.proc.returncode == 1
    output = system.log.read_text(errors="replace")
    assert "gateway keeps failing at start-up" in output
    assert output.count("cardreg: gateway exited with status") == 4  # then it gives up
    for delay in ("0.5", "1", "2", "4"):
        assert f"restarting in {delay} s" in output
    assert not [pid for pid in _descendants(system.proc.pid) if _alive(pid)]
