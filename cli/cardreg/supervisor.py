"""Supervision for `cardreg up`: start children, restart the ones that die, stop them all.

- A child that exits is started again after a backoff: 0.5 s, doubling up to 30 s, back to
  0.5 s once it has been ready for a minute. Each restart prints one line.
- A child **keeps failing at start-up** when it exits before it was ever ready (see `Child`)
  `START_FAILURES` times in a row; then everything is stopped and `cardreg up` exits 1.
  A child that was ready once starts its count again.
- Children run in their own sessions (a terminal's Ctrl-C reaches only `cardreg up`, which
  then stops them in reverse start order, letting each drain) and get SIGTERM from the kernel
  if `cardreg up` dies without cleaning up (PR_SET_PDEATHSIG).

`preexec_fn` is only safe in a process without threads: the supervisor uses none (asyncio,
nats-py and raw asyncio streams to numeric addresses: no resolver thread pool).
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
HEALTHY_RESET = 60.0
START_FAILURES = 5
TICK = 0.1
STOP_TIMEOUT = 15.0

_PR_SET_PDEATHSIG = 1
# Resolved now, so that the forked child only makes the call (no dlopen between fork and exec).
_prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl


def _die_with_parent() -> None:
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class GiveUp(RuntimeError):
    """A child keeps failing at start-up: stop everything."""


@dataclass
class Child:
    """One supervised process. `command()` is asked again at every (re)start, so a restart may
    differ (nats-server: the same port as before). `ready(child)` says whether the running
    process serves: nats-server wrote its port, a service answers discovery, the gateway
    answers `/healthz`, the mail catcher wrote its port."""

    name: str
    command: Callable[[], list[str]]
    ready: Callable[[Child], Awaitable[bool]]
    env: dict[str, str] | None = None
    popen: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    ready_since: float | None = None
    start_failures: int = 0
    backoff: float = field(default_factory=lambda: BACKOFF_START)
    restart_at: float | None = None
    restarts: int = 0

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def spawn(self) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads here (module docstring)
            **self.popen,
        )
        self.ready_since = None
        self.restart_at = None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    def __init__(self, *, out=None) -> None:
        self.children: list[Child] = []
        self._out = out or sys.stderr
        self._loop = asyncio.get_running_loop()

    def say(self, text: str) -> None:
        print(f"cardreg: {text}", file=self._out, flush=True)

    def start(self, child: Child) -> Child:
        self.children.append(child)
        child.spawn()
        return child

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    async def until_ready(
        self, children: Sequence[Child], *, timeout: float, stop: asyncio.Event
    ) -> bool:
        """Supervise until every one of `children` is ready (True) or `stop` is set (False);
        RuntimeError after `timeout` seconds."""
        deadline = self._loop.time() + timeout
        while not all(c.ready_since is not None for c in children):
            if stop.is_set():
                return False
            if self._loop.time() > deadline:
                waiting = [c.name for c in children if c.ready_since is None]
                raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(waiting)}")
            await self.tick(stop)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Supervise until `stop` is set; GiveUp when a child keeps failing at start-up."""
        while not stop.is_set():
            await self.tick(stop)

    async def tick(self, stop: asyncio.Event) -> None:
        await self._probe()
        now = self._loop.time()
        for child in self.children:
            self._tend(child, now)
        try:
            await asyncio.wait_for(stop.wait(), TICK)
        except TimeoutError:
            pass

    async def _probe(self) -> None:
        waiting = [
            c for c in self.children if c.ready_since is None and c.proc and c.proc.poll() is None
        ]
        if not waiting:
            return
        results = await asyncio.gather(*(c.ready(c) for c in waiting), return_exceptions=True)
        now = self._loop.time()
        for child, ok in zip(waiting, results, strict=True):
            if ok is True and child.proc.poll() is None:
                child.ready_since = now
                child.start_failures = 0

    def _tend(self, child: Child, now: float) -> None:
        if child.proc is None:
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                child.spawn()
            return
        returncode = child.proc.poll()
        if returncode is None:
            if child.ready_since is not None and now - child.ready_since >= HEALTHY_RESET:
                child.backoff = BACKOFF_START
            return
        if child.ready_since is None:
            child.start_failures += 1
            if child.start_failures >= START_FAILURES:
                raise GiveUp(
                    f"{child.name} keeps failing at start-up: it {describe_exit(returncode)} "
                    f"before it was ready, {child.start_failures} times in a row"
                )
        delay = child.backoff
        child.backoff = min(delay * 2, BACKOFF_MAX)
        child.proc = None
        child.ready_since = None
        child.restart_at = now + delay
        self.say(f"{child.name} {describe_exit(returncode)}; restarting in {delay:g} s")

    def stop_all(self) -> None:
        """SIGTERM each child in reverse start order and wait for it (SIGKILL after 15 s)."""
        for child in reversed(self.children):
            proc = child.proc
            if proc is None:
                continue
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop in time; killing it")
                proc.kill()
                proc.wait()
