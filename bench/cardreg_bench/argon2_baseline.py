"""The bare cost of the login path's floor: argon2id verify with the registry's parameters."""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type

# DESIGN's defaults, as the registry uses them.
MEMORY_KIB, TIME_COST, PARALLELISM = 19456, 2, 1


def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID
    )


def one_hash_seconds(samples: int = 30) -> float:
    """Median time of one verify on one core."""
    ph = hasher()
    digest = ph.hash("correct horse battery")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        ph.verify(digest, "correct horse battery")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def verify_rate(seconds: float = 5.0, threads: int | None = None) -> float:
    """Verifies per second with one thread per core (argon2-cffi releases the GIL)."""
    threads = threads or os.cpu_count() or 1
    ph = hasher()
    digest = ph.hash("correct horse battery")
    deadline = time.perf_counter() + seconds

    def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            ph.verify(digest, "correct horse battery")
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: worker(), range(threads)))
    return total / (time.perf_counter() - started)
