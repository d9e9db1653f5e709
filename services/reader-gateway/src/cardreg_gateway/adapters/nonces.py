"""Card challenges in a JetStream KV bucket, shared by every gateway replica.

Issue: `create` (fails if the key exists). Consume: read the entry, then compare-and-set it to
a used marker at the revision read; of two replicas consuming one nonce, the server lets
exactly one update through.

The bucket is in memory, so a restarted nats-server comes back without it: the next issue
makes it again (the challenges in flight are lost; their reads get `nonce_invalid`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BadRequestError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoStreamResponseError,
)
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
        kv: KeyValue,
        *,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
        reopen: Callable[[], Awaitable[KeyValue]] | None = None,
    ):
        self._kv = kv
        self._ttl = ttl_seconds
        self._clock = clock
        self._reopen = reopen
        self._reopening = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        *,
        bucket: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> NonceStore:
        """Create the bucket or open it; every replica calls this at start-up."""
        return cls(
            await _open_bucket(js, bucket, ttl_seconds),
            ttl_seconds=ttl_seconds,
            clock=clock,
            reopen=lambda: _open_bucket(js, bucket, ttl_seconds),
        )

    async def issue(self) -> Challenge:
        raw = new_nonce()
        ticket = Ticket(expires_at=self._clock() + self._ttl)
        try:
            try:
                await self._kv.create(nonce_key(raw), ticket.encode())
            except NoStreamResponseError:
                if self._reopen is None:
                    raise
                await self._bucket_again()
                await self._kv.create(nonce_key(raw), ticket.encode())
        except NatsError as exc:
            log.warning("could not store a challenge: %s", type(exc).__name__)
            raise ServiceFailure(ErrorCode.UNAVAILABLE) from exc
        return Challenge(nonce=b64url_encode(raw), expires_in=self._ttl)

    async def _bucket_again(self) -> None:
        """The bucket is gone (nats-server restarted): make it again, once for all callers."""
        kv = self._kv
        async with self._reopening:
            if self._kv is kv:
                log.warning("nonce bucket missing (nats-server restarted?); creating it again")
                self._kv = await self._reopen()

    async def consume(self, nonce: str) -> None:
        """Use up a challenge, or raise `nonce_invalid` (unknown, expired or already used)."""
        try:
            key = nonce_key(b64url_decode(nonce))
        except ValueError as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        try:
            entry = await self._kv.get(key)
            ticket = Ticket.decode(entry.value or b"")
            if ticket is None or not ticket.is_live(self._clock()):
                raise ServiceFailure(ErrorCode.NONCE_INVALID)
            await self._kv.update(key, USED, last=entry.revision)
        except (KeyNotFoundError, KeyWrongLastSequenceError) as exc:
            raise ServiceFailure(ErrorCode.NONCE_INVALID) from exc
        except NatsError as exc:
            log.warning("could not consume a challenge: %s", type(exc).__name__)
            raise ServiceFailure(ErrorCode.UNAVAILABLE) from exc


async def _open_bucket(js: JetStreamContext, bucket: str, ttl_seconds: int) -> KeyValue:
    config = KeyValueConfig(
        bucket=bucket,
        description="Card challenges: single use, short lived.",
        history=1,
        ttl=float(ttl_seconds),
        # Challenges live two minutes: losing them with a server restart costs a re-read,
        # and memory storage keeps the three KV operations per login cheap.
        storage=StorageType.MEMORY,
    )
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        # Exists with another configuration (another TTL): tickets carry their own expiry,
        # so the existing bucket is safe to share.
        log.warning("nonce bucket %s exists with another configuration; using it", bucket)
        return await js.key_value(bucket)
