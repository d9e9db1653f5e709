"""The nonce store on real JetStream KV buckets: issue without a round trip, single use across
connections, expiry, keys shared and rotated by replicas, both buckets made again after the
server lost them."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime

import pytest
from cardreg_gateway.adapters import challenge_keys
from cardreg_gateway.adapters.nonces import NonceStore
from cardreg_gateway.app import Gateway
from cardreg_gateway.domain.challenges import MARKER_TTL_SECONDS, USED, nonce_key
from cardreg_gateway.settings import GatewaySettings
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from cardreg_testkit.clock import FakeClock
from cardreg_testkit.waits import wait_until
from nats.js.api import StorageType
from nats.js.errors import BucketNotFoundError, NoKeysError

USED_BUCKET, KEY_BUCKET = "used_nonces", "challenge_keys"
DAY = 86400


@pytest.fixture
async def nc(nats_url):
    client = await bus.connect(nats_url, name="test", allow_reconnect=False)
    yield client
    await client.close()


def whole_second() -> FakeClock:
    return FakeClock(datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC))


async def open_store(nc, *, ttl_seconds: int = 120, clock: FakeClock | None = None) -> NonceStore:
    return await NonceStore.open(
        nc,
        bucket=USED_BUCKET,
        key_bucket=KEY_BUCKET,
        ttl_seconds=ttl_seconds,
        rotate_keys_after_seconds=DAY,
        clock=(clock or whole_second()).epoch,
    )


async def keys_in(nc, bucket: str) -> list[str]:
    kv = await nc.jetstream().key_value(bucket)
    try:
        return await kv.keys()
    except NoKeysError:  # nats-py's answer for an empty bucket
        return []


async def test_issuing_stores_nothing_and_consuming_stores_the_hash_as_used(nc) -> None:
    store = await open_store(nc)
    challenge = store.issue()
    assert challenge.expires_in == 120
    assert await keys_in(nc, USED_BUCKET) == []
    await store.consume(challenge.nonce)
    raw = b64url_decode(challenge.nonce)
    kv = await nc.jetstream().key_value(USED_BUCKET)
    assert await kv.keys() == [nonce_key(raw)]
    assert (await kv.get(nonce_key(raw))).value == USED
    assert challenge.nonce not in nonce_key(raw) and raw.hex() not in nonce_key(raw)


async def test_the_buckets_keep_markers_as_long_as_a_nonce_lives_on_disk(nc) -> None:
    await open_store(nc, ttl_seconds=90)
    js = nc.jetstream()
    used = await js.stream_info(f"KV_{USED_BUCKET}")
    assert used.config.max_age == MARKER_TTL_SECONDS  # whatever a replica's nonce TTL
    assert used.config.max_msgs_per_subject == 1
    assert used.config.storage == StorageType.FILE
    keys = await js.stream_info(f"KV_{KEY_BUCKET}")
    assert keys.config.storage == StorageType.FILE
    assert not keys.config.max_age  # the keys do not expire


async def test_second_consume_is_refused(nc) -> None:
    store = await open_store(nc)
    challenge = store.issue()
    await store.consume(challenge.nonce)
    with pytest.raises(ServiceFailure) as caught:
        await store.consume(challenge.nonce)
    assert caught.value.code is ErrorCode.NONCE_INVALID


async def test_foreign_and_undecodable_nonces_are_refused_without_a_write(nc) -> None:
    store = await open_store(nc)
    tampered = bytearray(b64url_decode(store.issue().nonce))
    tampered[-1] ^= 1
    for nonce in (b64url_encode(bytes(32)), b64url_encode(bytes(tampered)), "not base64!", ""):
        with pytest.raises(ServiceFailure) as caught:
            await store.consume(nonce)
        assert caught.value.code is ErrorCode.NONCE_INVALID
    assert await keys_in(nc, USED_BUCKET) == []


async def test_expired_nonce_is_refused(nc) -> None:
    clock = whole_second()
    store = await open_store(nc, clock=clock)
    challenge = store.issue()
    clock.advance(120)
    with pytest.raises(ServiceFailure) as caught:
        await store.consume(challenge.nonce)
    assert caught.value.code is ErrorCode.NONCE_INVALID


async def test_nonce_just_before_expiry_is_accepted(nc) -> None:
    clock = whole_second()
    store = await open_store(nc, clock=clock)
    challenge = store.issue()
    clock.advance(119.9)
    await store.consume(challenge.nonce)


async def test_concurrent_consumers_on_two_connections_exactly_one_wins(nats_url) -> None:
    a = await bus.connect(nats_url, name="a", allow_reconnect=False)
    b = await bus.connect(nats_url, name="b", allow_reconnect=False)
    try:
        store_a, store_b = await open_store(a), await open_store(b)
        for _ in range(5):
            challenge = store_a.issue()
            attempts = [(store_a if i % 2 else store_b).consume(challenge.nonce) for i in range(10)]
            results = await asyncio.gather(*attempts, return_exceptions=True)
            winners = [r for r in results if r is None]
            losers = [r for r in results if isinstance(r, ServiceFailure)]
            assert len(winners) == 1
            assert len(losers) == 9
            assert all(f.code is ErrorCode.NONCE_INVALID for f in losers)
    finally:
        await a.close()
        await b.close()


async def test_replicas_share_one_key_and_open_is_idempotent(nc) -> None:
    first = await open_store(nc)
    challenge = first.issue()
    again = await open_store(nc)
    other_ttl = await open_store(nc, ttl_seconds=30)
    assert other_ttl.issue().expires_in == 30
    await again.consume(challenge.nonce)  # issued by `first`
    with pytest.raises(ServiceFailure):
        await other_ttl.consume(challenge.nonce)
    assert await keys_in(nc, KEY_BUCKET) == [challenge_keys.ENTRY]


async def test_a_rotation_never_refuses_a_live_nonce_on_any_replica(nc) -> None:
    clock = whole_second()
    a, b = await open_store(nc, clock=clock), await open_store(nc, clock=clock)
    clock.advance(DAY)
    await a.refresh_keys()  # due: `a` adds a new key, which `b` has not read yet
    # Nobody issues under the new key before every replica has had time to read it.
    await b.consume(a.issue().nonce)
    await a.consume(b.issue().nonce)
    clock.advance(challenge_keys.REFRESH_SECONDS)
    await b.refresh_keys()  # `b`'s periodic read
    under_old = b.issue()
    clock.advance(challenge_keys.ACTIVATION_SECONDS - challenge_keys.REFRESH_SECONDS)
    await a.refresh_keys()
    await b.refresh_keys()
    await b.consume(a.issue().nonce)  # under the new key now
    await a.consume(under_old.nonce)  # the key before is still accepted
    stored = await (await nc.jetstream().key_value(KEY_BUCKET)).get(challenge_keys.ENTRY)
    assert len(challenge_keys._Record.decode(stored.value or b"").keys) == 2


async def test_rotating_replicas_add_one_key_between_them(nats_url) -> None:
    clock = whole_second()
    connections = [await bus.connect(nats_url, name=f"r{i}") for i in range(4)]
    try:
        stores = [await open_store(c, clock=clock) for c in connections]
        clock.advance(DAY)
        await asyncio.gather(*(s.refresh_keys() for s in stores))
        kv = await connections[0].jetstream().key_value(KEY_BUCKET)
        record = challenge_keys._Record.decode((await kv.get(challenge_keys.ENTRY)).value or b"")
        assert len(record.keys) == 2
        clock.advance(challenge_keys.ACTIVATION_SECONDS)
        await asyncio.gather(*(s.refresh_keys() for s in stores))
        for issuer in stores:
            for consumer in stores:
                await consumer.consume(issuer.issue().nonce)
    finally:
        for c in connections:
            await c.close()


async def test_unreadable_stored_keys_are_replaced(nc) -> None:
    await open_store(nc)
    kv = await nc.jetstream().key_value(KEY_BUCKET)
    await kv.put(challenge_keys.ENTRY, b"{not json")
    store = await open_store(nc)
    await store.consume(store.issue().nonce)
    record = challenge_keys._Record.decode((await kv.get(challenge_keys.ENTRY)).value or b"")
    assert len(record.keys) == 1


async def test_buckets_lost_by_the_server_are_made_again(nats_process) -> None:
    """A server that comes back without its JetStream store: once the gateway is connected
    again, its reconnect hook makes both buckets again, and challenges work as before."""
    nc = await bus.connect(nats_process.url, name="gateway")  # reconnects, as the service does
    try:
        gateway = await Gateway.start(GatewaySettings(nats_url=nats_process.url), nc)
        try:
            store = gateway.nonces
            before = store.issue()
            await asyncio.to_thread(nats_process.stop)
            shutil.rmtree(nats_process.store)
            await asyncio.to_thread(nats_process.restart)
            await wait_until(lambda: _has_bucket(nc, USED_BUCKET), what="the used bucket again")
            await wait_until(lambda: _has_bucket(nc, KEY_BUCKET), what="the key bucket again")

            issued = [store.issue() for _ in range(5)]
            for challenge in issued:
                await store.consume(challenge.nonce)
            with pytest.raises(ServiceFailure) as lost:
                await store.consume(before.nonce)  # its key went with the store
            assert lost.value.code is ErrorCode.NONCE_INVALID
            assert (await (await nc.jetstream().key_value(USED_BUCKET)).status()).values == 5
        finally:
            await gateway.stop()
    finally:
        await bus.close(nc)


async def test_a_used_nonce_stays_used_across_a_server_restart(nats_process) -> None:
    nc = await bus.connect(nats_process.url, name="gateway")
    try:
        gateway = await Gateway.start(GatewaySettings(nats_url=nats_process.url), nc)
        try:
            challenge = gateway.nonces.issue()
            await gateway.nonces.consume(challenge.nonce)
            await asyncio.to_thread(nats_process.stop)
            await asyncio.to_thread(nats_process.restart)
            await wait_until(lambda: _has_bucket(nc, USED_BUCKET), what="JetStream again")
            with pytest.raises(ServiceFailure) as replayed:
                await gateway.nonces.consume(challenge.nonce)
            assert replayed.value.code is ErrorCode.NONCE_INVALID
            fresh = gateway.nonces.issue()  # the keys outlived the restart too
            await gateway.nonces.consume(fresh.nonce)
        finally:
            await gateway.stop()
    finally:
        await bus.close(nc)


async def _has_bucket(nc, bucket: str) -> bool:
    try:
        await nc.jetstream().key_value(bucket)
    except (*bus.BUS_ERRORS, BucketNotFoundError):
        return False
    return True
