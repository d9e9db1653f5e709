"""The nonce store on a real JetStream KV bucket: issue, single use, expiry, shared bucket."""

from __future__ import annotations

import asyncio

import pytest
from cardreg_gateway.adapters.nonces import NonceStore
from cardreg_gateway.domain.challenges import USED, nonce_key
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from cardreg_testkit.clock import FakeClock


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
