"""argon2id password hashing off the event loop, at most one hash per core in flight.

argon2-cffi releases the GIL, so threads hash in parallel while the loop keeps serving.
Parameters are always explicit: the library's own defaults cost ~8x ours.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from ..metrics import ARGON2_RUNNING, ARGON2_WAITING

log = logging.getLogger("cardreg.registry.hashing")
T = TypeVar("T")

HASH_LENGTH = 32
SALT_LENGTH = 16


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1

    def metadata(self) -> dict[str, str]:
        """As announced in the registry's `$SRV.INFO` (micro metadata values are strings)."""
        return {
            "password_hash": "argon2id",
            "argon2_memory_kib": str(self.memory_kib),
            "argon2_time_cost": str(self.time_cost),
            "argon2_parallelism": str(self.parallelism),
        }


class Argon2Hasher:
    def __init__(self, params: Argon2Params, *, concurrency: int = 0) -> None:
        self.params = params
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)
        self._dummy_hash: str | None = None

    async def prepare(self) -> None:
        """Make the hash that unknown accounts are checked against (see `verify_dummy`)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await self._on_a_core(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._on_a_core(self._verify, password_hash, password)

    async def _on_a_core(self, work: Callable[..., T], *args: str) -> T:
        """`work` on a thread once a core is free; the queue and the running ones are
        gauges (`cardreg_argon2_waiting`, `cardreg_argon2_running`)."""
        ARGON2_WAITING.inc()
        try:
            await self._slots.acquire()
        finally:
            ARGON2_WAITING.dec()
        ARGON2_RUNNING.inc()
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            ARGON2_RUNNING.dec()
            self._slots.release()

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of a real verify, so "no such account" answers as slowly as "wrong password"."""
        await self.prepare()
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except InvalidHashError:
            log.error("stored password hash is not a valid argon2 hash")
            return False
        except VerificationError:
            return False
