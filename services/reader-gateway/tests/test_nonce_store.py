"""The nonce store on a real JetStream KV bucket: issue, single use, expiry, shared bucket,
made again after a server restart."""

from __future__ import annotations

import asyncio

import pytest
from cardreg_gateway.adapters.nonces import NonceStore
from cardreg_gateway.app import Gateway
from cardreg_gateway.domain.challenges import USED, nonce_key
from cardreg_gateway.settings import GatewaySettings
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from cardreg_testkit.clock import FakeClock
from cardreg_testkit.waits import wait_until
from nats.js.errors import BucketNotFoundError


@pytest.fixture
async def nc(nats_url):
    client = await bus.connect(nats_url, name="test", allow_reconnect=False)
    yield client
    await client.close()


async def test_issue_stores_under_the_hash_and_consume_marks_used(nc) -> None:
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    challenge = await store.issue()
    assert challenge.expires_in == 120
    kv = await nc.jetstream().key_value("nonces")
    key = nonce_key(b64url_decode(challenge.nonce))
    assert (await kv.get(key)).value != USED
    await store.consume(challenge.nonce)
    assert (await kv.get(key)).value == USED


async def test_bucket_keeps_one_revision_with_the_ttl(nc) -> None:
    await NonceStore.open(nc, bucket="nonces", ttl_seconds=90)
    status = await (await nc.jetstream().key_value("nonces")).status()
    assert status.ttl == 90
    assert status.history == 1


async def test_second_consume_is_refused(nc) -> None:
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    challenge = await store.issue()
    await store.consume(challenge.nonce)
    with pytest.raises(ServiceFailure) as caught:
        await store.consume(challenge.nonce)
    assert caught.value.code is ErrorCode.NONCE_INVALID


async def test_unknown_and_undecodable_nonces_are_refused(nc) -> None:
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    for nonce in (b64url_encode(bytes(32)), "not base64!", ""):
        with pytest.raises(ServiceFailure) as caught:
            await store.consume(nonce)
        assert caught.value.code is ErrorCode.NONCE_INVALID


async def test_expired_nonce_is_refused_even_while_still_stored(nc) -> None:
    clock = FakeClock()
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120, clock=clock.epoch)
    challenge = await store.issue()
    clock.advance(120)
    with pytest.raises(ServiceFailure) as caught:
        await store.consume(challenge.nonce)
    assert caught.value.code is ErrorCode.NONCE_INVALID


async def test_nonce_just_before_expiry_is_accepted(nc) -> None:
    clock = FakeClock()
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120, clock=clock.epoch)
    challenge = await store.issue()
    clock.advance(119.9)
    await store.consume(challenge.nonce)


async def test_concurrent_consumers_on_two_connections_exactly_one_wins(nats_url) -> None:
    a = await bus.connect(nats_url, name="a", allow_reconnect=False)
    b = await bus.connect(nats_url, name="b", allow_reconnect=False)
    try:
        store_a = await NonceStore.open(a, bucket="nonces", ttl_seconds=120)
        store_b = await NonceStore.open(b, bucket="nonces", ttl_seconds=120)
        for _ in range(5):
            challenge = await store_a.issue()
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


async def test_open_is_idempotent_and_tolerates_another_ttl(nc) -> None:
    first = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    challenge = await first.issue()
    again = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    other_ttl = await NonceStore.open(nc, bucket="nonces", ttl_seconds=30)
    # The bucket, and the nonce in it, survived both.
    await again.consume(challenge.nonce)
    with pytest.raises(ServiceFailure):
        await other_ttl.consume(challenge.nonce)
    assert (await (await nc.jetstream().key_value("nonces")).status()).ttl == 120


async def test_only_the_hash_of_the_nonce_is_a_key(nc) -> None:
    store = await NonceStore.open(nc, bucket="nonces", ttl_seconds=120)
    challenge = await store.issue()
    raw = b64url_decode(challenge.nonce)
    keys = await (await nc.jetstream().key_value("nonces")).keys()
    assert keys == [nonce_key(raw)]
    assert challenge.nonce not in keys[0] and raw.hex() not in keys[0]


async def test_a_bucket_lost_with_a_server_restart_is_made_again(nats_process) -> None:
    """Memory storage does not outlive nats-server: once the gateway is connected again, its
    reconnect hook makes the bucket again, and challenges work as before."""
    nc = await bus.connect(nats_process.url, name="gateway")  # reconnects, as the service does
    try:
        gateway = await Gateway.start(GatewaySettings(nats_url=nats_process.url), nc)
        try:
            store = gateway.nonces
            before = await store.issue()
            await asyncio.to_thread(nats_process.stop)
            await asyncio.to_thread(nats_process.restart)
            await wait_until(lambda: _has_bucket(nc, "nonces"), what="the nonce bucket again")

            issued = await asyncio.gather(*(store.issue() for _ in range(5)))
            for challenge in issued:
                await store.consume(challenge.nonce)
            with pytest.raises(ServiceFailure) as lost:
                await store.consume(before.nonce)
            assert lost.value.code is ErrorCode.NONCE_INVALID
            assert (await (await nc.jetstream().key_value("nonces")).status()).values == 5
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
