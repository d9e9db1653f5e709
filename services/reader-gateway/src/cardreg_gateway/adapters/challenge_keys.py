"""The challenge keys in a JetStream KV bucket of their own: one entry, shared by every gateway
replica, so that a nonce one replica issued is accepted by all the others.

The first replica to start makes the first key. The keys are rotated once the newest is older
than `rotate_after_seconds`: whichever replica first notices adds a new key with a
compare-and-set, and the others read it at their next refresh (every `REFRESH_SECONDS`). Every
replica accepts every key in the entry at once, but issues under the new one only once it is
`ACTIVATION_SECONDS` old, so that no replica meets a nonce under a key it has not read yet.
The key before stays accepted until the rotation after, long after its last nonce expired.
File storage with the configured copies: the keys outlive a restarted nats-server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared.models.common import b64url_decode, b64url_encode
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..domain.challenges import CLOCK_SKEW_SECONDS, ChallengeKeys, new_key
from .buckets import open_bucket

log = logging.getLogger("cardreg.gateway.challenge_keys")

ENTRY = "keys"
KEPT = 2  # the newest key and the one before
# How often each replica reads the keys again, and how long a new key waits before any
# replica issues under it: past every replica's next refresh.
REFRESH_SECONDS = 60.0
ACTIVATION_SECONDS = 2 * REFRESH_SECONDS + CLOCK_SKEW_SECONDS


@dataclass(frozen=True)
class _Key:
    secret: bytes
    created_at: float  # epoch seconds


@dataclass(frozen=True)
class _Record:
    keys: list[_Key]  # newest first

    def encode(self) -> bytes:
        keys = [{"key": b64url_encode(k.secret), "created_at": k.created_at} for k in self.keys]
        return json.dumps({"keys": keys}).encode()

    @classmethod
    def decode(cls, value: bytes) -> _Record:
        data = json.loads(value)
        record = cls([_Key(b64url_decode(k["key"]), float(k["created_at"])) for k in data["keys"]])
        ChallengeKeys([k.secret for k in record.keys])  # ValueError: a key malformed, or none
        return record

    def rotation_due(self, now: float, rotate_after: float) -> bool:
        return not self.keys or now - self.keys[0].created_at >= rotate_after

    def rotated(self, now: float) -> _Record:
        return _Record([_Key(new_key(), now), *self.keys][:KEPT])

    def held(self, now: float) -> ChallengeKeys:
        """Issue under the newest key that every replica has had time to read (or the oldest
        if none has: the very first key), accept them all."""
        if not self.keys:
            raise ValueError("no challenge key")
        ready = [k for k in self.keys if now - k.created_at >= ACTIVATION_SECONDS]
        active = ready[0] if ready else self.keys[-1]
        return ChallengeKeys([active.secret, *(k.secret for k in self.keys if k is not active)])


class ChallengeKeyRing:
    def __init__(
        self,
        kv: KeyValue,
        config: KeyValueConfig,
        nc: Client,
        *,
        rotate_after_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self._kv = kv
        self._config = config
        self._nc = nc
        self._rotate_after = rotate_after_seconds
        self._clock = clock
        self._keys: ChallengeKeys | None = None

    @classmethod
    async def open(
        cls,
        nc: Client,
        *,
        bucket: str,
        replicas: int,
        rotate_after_seconds: float,
        clock: Callable[[], float],
    ) -> ChallengeKeyRing:
        config = KeyValueConfig(
            bucket=bucket,
            description="The gateway's challenge keys: secret, read by gateway replicas only.",
            history=1,
            storage=StorageType.FILE,
            replicas=replicas,
        )
        ring = cls(
            await open_bucket(nc, config),
            config,
            nc,
            rotate_after_seconds=rotate_after_seconds,
            clock=clock,
        )
        await ring.refresh()
        return ring

    @property
    def keys(self) -> ChallengeKeys:
        assert self._keys is not None, "refreshed at open"
        return self._keys

    async def ensure_bucket(self) -> None:
        self._kv = await open_bucket(self._nc, self._config)
        await self.refresh()

    async def refresh(self) -> None:
        """Read the keys again; make the first one, or rotate, when that is due. Raises the bus's
        errors (the caller tries again later); a competing replica's write is no error."""
        for _ in range(3):
            try:
                record = await self._current()
            except KeyWrongLastSequenceError:
                continue  # another replica wrote first: read what it wrote
            self._keys = record.held(self._clock())
            return
        log.warning("challenge keys kept changing while being read; keeping the ones held")

    async def _current(self) -> _Record:
        now = self._clock()
        try:
            entry = await self._kv.get(ENTRY)
        except KeyNotFoundError:
            first = _Record([]).rotated(now)
            await self._kv.create(ENTRY, first.encode())
            log.info("made the first challenge key")
            return first
        try:
            record = _Record.decode(entry.value or b"")
        except (ValueError, KeyError, TypeError):
            # Written by something else, or damaged: a new key (live challenges are lost, a
            # card is read again) rather than none at all.
            log.error("the stored challenge keys are unreadable; making a new one")
            record = _Record([])
        if not record.rotation_due(now, self._rotate_after):
            return record
        rotated = record.rotated(now)
        await self._kv.update(ENTRY, rotated.encode(), last=entry.revision)
        log.info("rotated the challenge keys")
        return rotated
