"""The bare cost of the login path's floor: argon2id verify with the registry's own parameters.

The parameters come from the running registry (its `$SRV.INFO` metadata), never from assumed
defaults: a registry configured with heavier hashing would otherwise be compared with a
lighter baseline and look better than it is.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from argon2 import PasswordHasher, Type

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class HashParams:
    memory_kib: int
    time_cost: int
    parallelism: int

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> HashParams:
        """From the registry's `$SRV.INFO` metadata; ValueError if it does not say."""
        if metadata.get("password_hash") != "argon2id":
            raise ValueError("the registry does not announce argon2id parameters")
        try:
            return cls(
                memory_kib=int(metadata["argon2_memory_kib"]),
                time_cost=int(metadata["argon2_time_cost"]),
                parallelism=int(metadata["argon2_parallelism"]),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"the registry's argon2id parameters are unreadable: {exc}") from exc

    def describe(self) -> str:
        return f"m={self.memory_kib} KiB t={self.time_cost} p={self.parallelism}"

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def hasher(params: HashParams) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        type=Type.ID,
    )


@dataclass(frozen=True)
class OneHash:
    wall: float  # median seconds of one verify on one thread
    cpu: float  # median CPU seconds of that thread (what a login spends hashing)


def one_hash(params: HashParams, samples: int = 20) -> OneHash:
    ph = hasher(params)
    digest = ph.hash(PASSWORD)
    walls, cpus = [], []
    for _ in range(samples):
        started, cpu_started = time.perf_counter(), time.thread_time()
        ph.verify(digest, PASSWORD)
        walls.append(time.perf_counter() - started)
        cpus.append(time.thread_time() - cpu_started)
    return OneHash(statistics.median(walls), statistics.median(cpus))


def verify_rate(params: HashParams, seconds: float = 5.0, threads: int | None = None) -> float:
    """Verifies per second with one thread per core (argon2-cffi releases the GIL)."""
    threads = threads or os.cpu_count() or 1
    ph = hasher(params)
    digest = ph.hash(PASSWORD)
    deadline = time.perf_counter() + seconds

    def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            ph.verify(digest, PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: worker(), range(threads)))
    return total / (time.perf_counter() - started)
