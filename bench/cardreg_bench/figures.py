"""The arithmetic of `cardreg bench login`: one window's figures, and the spread of several.

Kept apart from the driving so that it can be tested without a running system. The ratio is
taken against the *higher* of the bare-hash rates measured just before and just after the
window: foreign load during one of the two baselines can only lower it, and a lowered
baseline would flatter the ratio.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from .procstat import Usage


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Window:
    clients: int
    elapsed: float  # seconds of load
    latencies: list[float]  # seconds, successful logins only
    errors: dict[str, int]
    usage: Usage  # CPU over the load window
    bare_before: float  # argon2id verifies/s, all cores, just before the window
    bare_after: float  # the same just after
    hash_wall: float  # seconds of one verify on one thread
    hash_cpu: float  # CPU seconds of one verify

    @property
    def logins(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.logins / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def bare(self) -> float:
        return max(self.bare_before, self.bare_after)

    def ratio(self, bare: float | None = None) -> float:
        bare = self.bare if bare is None else bare
        return self.rate / bare if bare > 0 else math.nan

    def cpu_ms_per_login(self) -> dict[str, float]:
        """CPU milliseconds per successful login, per part of the system and the client."""
        if not self.logins:
            return {}
        return {part: s * 1e3 / self.logins for part, s in sorted(self.usage.parts.items())}

    @property
    def hash_ms(self) -> float:
        return self.hash_cpu * 1e3

    def non_hash_ms(self) -> float:
        """Everything a login costs besides its one argon2id verify, over every process."""
        per_login = self.cpu_ms_per_login()
        return sum(per_login.values()) - self.hash_ms if per_login else math.nan

    def summary(self) -> dict[str, Any]:
        p50, p95, p99 = (percentile(self.latencies, q) for q in (50, 95, 99))
        per_login = self.cpu_ms_per_login()
        return {
            "clients": self.clients,
            "seconds": round(self.elapsed, 3),
            "logins": self.logins,
            "logins_per_s": self.rate,
            "errors": dict(self.errors),
            "latency_ms": {"p50": p50 * 1e3, "p95": p95 * 1e3, "p99": p99 * 1e3},
            "bare_verify_per_s": {"before": self.bare_before, "after": self.bare_after},
            "one_hash_ms": {"wall": self.hash_wall * 1e3, "cpu": self.hash_ms},
            "ratio": self.ratio(),
            "ratio_before_after": [self.ratio(self.bare_before), self.ratio(self.bare_after)],
            "p99_per_hash": p99 / self.hash_wall if self.hash_wall > 0 else math.nan,
            "cpu_ms_per_login": per_login,
            "registry_non_hash_ms": per_login.get("registry", 0.0) - self.hash_ms
            if per_login
            else math.nan,
            "non_hash_ms": self.non_hash_ms(),
            "foreign_cpu_s": self.usage.foreign,
            "foreign_cores": self.usage.foreign_cores,
        }


def spread(values: list[float]) -> dict[str, float]:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return {"median": math.nan, "min": math.nan, "max": math.nan}
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite)}


def over_repetitions(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and range of the headline figures over repetitions of one client count."""
    parts = sorted({p for w in windows for p in w["cpu_ms_per_login"]})
    return {
        "repetitions": len(windows),
        "logins_per_s": spread([w["logins_per_s"] for w in windows]),
        "ratio": spread([w["ratio"] for w in windows]),
        "p99_per_hash": spread([w["p99_per_hash"] for w in windows]),
        "non_hash_ms": spread([w["non_hash_ms"] for w in windows]),
        "foreign_cores": spread([w["foreign_cores"] for w in windows]),
        "cpu_ms_per_login": {
            p: spread([w["cpu_ms_per_login"].get(p, math.nan) for w in windows]) for p in parts
        },
    }


def table(summary: dict[str, Any]) -> str:
    """One window as the lines `cardreg bench login` prints."""
    lat = summary["latency_ms"]
    bare = summary["bare_verify_per_s"]
    one = summary["one_hash_ms"]
    lines = [
        f"clients {summary['clients']}, {summary['seconds']:.1f} s, {summary['logins']} logins",
        f"  logins/s            {summary['logins_per_s']:8.1f}",
        f"  latency p50/p95/p99 {lat['p50']:6.1f} / {lat['p95']:.1f} / {lat['p99']:.1f} ms",
        f"  errors              {sum(summary['errors'].values())} {summary['errors'] or ''}",
        f"  bare verify/s       {bare['before']:8.1f} before, {bare['after']:.1f} after",
        f"  one hash            {one['wall']:8.1f} ms wall, {one['cpu']:.1f} ms CPU",
        (
            f"  ratio logins/bare   {summary['ratio']:8.2f}  (against the higher baseline; "
            f"{summary['ratio_before_after'][0]:.2f} / {summary['ratio_before_after'][1]:.2f})"
        ),
        f"  p99 / one hash      {summary['p99_per_hash']:8.2f}",
        "  CPU ms per login    "
        + ", ".join(f"{p} {ms:.2f}" for p, ms in summary["cpu_ms_per_login"].items()),
        (
            f"  non-hash CPU/login  {summary['non_hash_ms']:8.2f} ms  (all processes, "
            f"registry besides the hash {summary['registry_non_hash_ms']:.2f})"
        ),
        (
            f"  foreign load        {summary['foreign_cores']:8.2f} cores "
            f"({summary['foreign_cpu_s']:.1f} CPU s by processes outside the system)"
        ),
    ]
    return "\n".join(lines)


def spread_line(over: dict[str, Any]) -> str:
    def fmt(name: str, digits: int = 2) -> str:
        s = over[name]
        return f"{name} {s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}]"

    return (
        f"median [range] over {over['repetitions']}: {fmt('logins_per_s', 1)}, {fmt('ratio')}, "
        f"{fmt('p99_per_hash')}, {fmt('non_hash_ms')} ms, {fmt('foreign_cores')}"
    )
