"""Card challenges shared by every gateway replica: tagged nonces, each used up once.

Issue: a nonce from the challenge keys (domain/challenges.py), no round trip. Consume: check
the tag and the expiry locally, then one KV `create` of the nonce's hash, which fails if the
nonce was used before, through whichever replica; of two replicas consuming one nonce, the
server lets exactly one through. The used markers are kept in file storage for as long as a
nonce can live, so a card read cannot be replayed after a restarted nats-server either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..domain.challenges import MARKER_TTL_SECONDS, USED, nonce_key
from .buckets import open_bucket
from .challenge_keys import ChallengeKeyRing

DAY = 86400.0


@dataclass(frozen=True)
class Challenge:
    nonce: str  # base64url, no padding
    expires_in: int  # seconds


class NonceStore:
    def __init__(
        self,
        nc: Client,
        used: KeyValue,
        config: KeyValueConfig,
        ring: ChallengeKeyRing,
        *,
        ttl_seconds: int,
        clock: Callable[[], float],
    ) -> None:
        self._nc = nc
        self._used = used
        self._config = config
        self._ring = ring
        self._ttl = ttl_seconds
        self._clock = clock

    @classmethod
    async def open(
        cls,
        nc: Client,
        *,
        bucket: str,
        key_bucket: str,
        ttl_seconds: int,
        replicas: int = 1,
        rotate_keys_after_seconds: float = DAY,
        clock: Callable[[], float] = time.time,
    ) -> NonceStore:
        """Create the buckets or open them, and read the keys; every replica calls this at
        start-up."""
        config = KeyValueConfig(
            bucket=bucket,
            description="Used card challenges: the hash of each nonce, kept while it could live.",
            history=1,
            ttl=float(MARKER_TTL_SECONDS),
            storage=StorageType.FILE,
            replicas=replicas,
        )
        ring = await ChallengeKeyRing.open(
            nc,
            bucket=key_bucket,
            replicas=replicas,
            rotate_after_seconds=rotate_keys_after_seconds,
            clock=clock,
        )
        used = await open_bucket(nc, config)
        return cls(nc, used, config, ring, ttl_seconds=ttl_seconds, clock=clock)

    async def ensure_bucket(self) -> None:
        """Create the buckets again if the server lost them."""
        self._used = await open_bucket(self._nc, self._config)
        await self._ring.ensure_bucket()

    async def refresh_keys(self) -> None:
        """Read the challenge keys again (rotating them when due); raises the bus's errors."""
        await self._ring.refresh()

    def issue(self) -> Challenge:
        # No round trip, but a nonce that could not be used up now is no use to the caller.
        bus.require_connection(self._nc)
        raw = self._ring.keys.issue(self._clock(), self._ttl)
        return Challenge(nonce=b64url_encode(raw), expires_in=self._ttl)

    async def consume(self, nonce: str) -> None:
        """Use up a challenge, or raise `nonce_invalid` (not ours, expired or already used)."""
        try:
            raw = b64url_decode(nonce)
        except ValueError as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        if not self._ring.keys.accepts(raw, self._clock()):
            raise ServiceFailure(ErrorCode.NONCE_INVALID)
        bus.require_connection(self._nc)
        try:
            await self._used.create(nonce_key(raw), USED)
        except KeyWrongLastSequenceError as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        except bus.BUS_ERRORS as exc:
            raise bus.unavailable(exc, "consuming a challenge") from exc
