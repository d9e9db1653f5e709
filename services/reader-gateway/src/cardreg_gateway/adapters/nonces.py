"""Card challenges in a JetStream KV bucket, shared by every gateway replica.

Issue: `create` (fails if the key exists). Consume: read the entry, then compare-and-set it to
a used marker at the revision read; of two replicas consuming one nonce, the server lets
exactly one update through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..domain.challenges import USED, Ticket, new_nonce, nonce_key

log = logging.getLogger("cardreg.gateway.nonces")


@dataclass(frozen=True)
class Challenge:
    nonce: str  # base64url, no padding
    expires_in: int  # seconds


class NonceStore:
    def __init__(
        self,
        nc: Client,
        kv: KeyValue,
        config: KeyValueConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._nc = nc
        self._kv = kv
        self._config = config
        self._ttl = int(config.ttl or 0)
        self._clock = clock

    @classmethod
    async def open(
        cls,
        nc: Client,
        *,
        bucket: str,
        ttl_seconds: int,
        replicas: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> NonceStore:
        """Create the bucket or open it; every replica calls this at start-up."""
        config = KeyValueConfig(
            bucket=bucket,
            description="Card challenges: single use, short lived.",
            history=1,
            ttl=float(ttl_seconds),
            # Challenges live two minutes: losing them with a server restart costs a re-read,
            # and memory storage keeps the three KV operations per login cheap.
            storage=StorageType.MEMORY,
            replicas=replicas,
        )
        return cls(nc, await _bucket(nc, config), config, clock=clock)

    async def ensure_bucket(self) -> None:
        """Create the bucket again if the server lost it (memory storage, a restart)."""
        await _bucket(self._nc, self._config)

    async def issue(self) -> Challenge:
        raw = new_nonce()
        ticket = Ticket(expires_at=self._clock() + self._ttl)
        bus.require_connection(self._nc)
        try:
            await self._kv.create(nonce_key(raw), ticket.encode())
        except bus.BUS_ERRORS as exc:
            raise bus.unavailable(exc, "storing a challenge") from exc
        return Challenge(nonce=b64url_encode(raw), expires_in=self._ttl)

    async def consume(self, nonce: str) -> None:
        """Use up a challenge, or raise `nonce_invalid` (unknown, expired or already used)."""
        try:
            key = nonce_key(b64url_decode(nonce))
        except ValueError as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        bus.require_connection(self._nc)
        try:
            entry = await self._kv.get(key)
            ticket = Ticket.decode(entry.value or b"")
            if ticket is None or not ticket.is_live(self._clock()):
                raise ServiceFailure(ErrorCode.NONCE_INVALID)
            await self._kv.update(key, USED, last=entry.revision)
        except (KeyNotFoundError, KeyWrongLastSequenceError) as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        except bus.BUS_ERRORS as exc:
            raise bus.unavailable(exc, "consuming a challenge") from exc


async def _bucket(nc: Client, config: KeyValueConfig) -> KeyValue:
    js = nc.jetstream()
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        # Exists with another configuration (another TTL): tickets carry their own expiry,
        # so the existing bucket is safe to share.
        log.warning("nonce bucket %s exists with another configuration; using it", config.bucket)
        return await js.key_value(config.bucket)
