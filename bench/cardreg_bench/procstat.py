"""CPU time from /proc: the system's processes, the load client, and everything else.

Wall-clock rates on a shared machine say as much about the neighbours as about us; CPU time
per process does not. A `Snapshot` holds, in clock ticks, the CPU used so far by every process
of the running system (found as the process tree of `cardreg up` for a data dir), by this
process (the load client) and by the whole machine; the difference of two snapshots over a
window gives each part's share, and what the machine used beyond the system and the client
is the foreign load.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
HZ = os.sysconf("SC_CLK_TCK")
CLIENT = "load client"
# The parts of the system a process can be, by what its command line runs.
PARTS = (
    ("cardreg_gateway", "gateway"),
    ("cardreg_registry", "registry"),
    ("cardreg_identity", "identity"),
    ("cardreg_mailer", "mailer"),
    ("cardreg.mailcatcher", "mail catcher"),
    ("nats-server", "nats-server"),
)


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process (all its threads), or None when it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def parent_of(pid: int) -> int | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2 :].split()[1])


def machine_busy_ticks() -> int:
    """Ticks every core spent not idle since boot (user, nice, system, irq, softirq, steal)."""
    with open(PROC / "stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def command_line(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def environment(pid: int) -> dict[str, str]:
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:  # another user's process
        return {}
    pairs = (part.decode(errors="replace").partition("=") for part in raw.split(b"\0") if part)
    return {name: value for name, _, value in pairs}


def part_of(argv: list[str]) -> str:
    """Which part of the system a command line runs ('cardreg up' for the supervisor)."""
    for marker, part in PARTS:
        if any(marker == arg or arg.endswith("/" + marker) for arg in argv):
            return part
    return "cardreg up"


def pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def system_processes(data_dir: Path) -> dict[int, str]:
    """Every process of the system `cardreg up` runs for `data_dir`, by part.

    The services carry `CARDREG_DATA_DIR` in their environment; their common parent is the
    supervisor, and its whole tree (nats-server, the mail catcher, restarted children) is the
    system. Processes of another data dir, another user or another system are foreign."""
    wanted = str(data_dir.resolve())
    everyone = pids()
    services = [p for p in everyone if environment(p).get("CARDREG_DATA_DIR") == wanted]
    roots = {parent_of(p) for p in services} - {None, os.getpid()}
    if not roots:
        return {}
    children: dict[int, list[int]] = {}
    for pid in everyone:
        parent = parent_of(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found: dict[int, str] = {}
    stack = [r for r in roots if r is not None]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found[pid] = part_of(command_line(pid))
        stack.extend(children.get(pid, ()))
    return found


@dataclass(frozen=True)
class Snapshot:
    parts: Counter[str] = field(default_factory=Counter)  # ticks per part, client included
    machine: int = 0

    @classmethod
    def take(cls, system: dict[int, str]) -> Snapshot:
        parts: Counter[str] = Counter()
        for pid, part in system.items():
            parts[part] += cpu_ticks(pid) or 0
        parts[CLIENT] += cpu_ticks(os.getpid()) or 0
        return cls(parts, machine_busy_ticks())


@dataclass(frozen=True)
class Usage:
    """CPU seconds used over a window, per part, and by processes outside the system."""

    seconds: float  # the window's wall-clock length
    parts: dict[str, float]
    foreign: float

    @classmethod
    def between(cls, before: Snapshot, after: Snapshot, seconds: float) -> Usage:
        parts = {
            part: max(0, after.parts[part] - before.parts.get(part, 0)) / HZ for part in after.parts
        }
        machine = (after.machine - before.machine) / HZ
        # A process that ended inside the window leaves its ticks uncounted on both sides;
        # rounding to ticks can make the difference dip just below zero.
        return cls(seconds, parts, max(0.0, machine - sum(parts.values())))

    @property
    def foreign_cores(self) -> float:
        """The foreign load as a number of busy cores, averaged over the window."""
        return self.foreign / self.seconds if self.seconds > 0 else 0.0
