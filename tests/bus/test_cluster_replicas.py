"""Streams and the challenge buckets with three copies on a three-node cluster (R3), one on a single
node (R1): the count each service takes from CARDREG_JETSTREAM_REPLICAS."""

from __future__ import annotations

import pytest
from cardreg_gateway.adapters.nonces import NonceStore
from cardreg_shared import bus
from cardreg_shared.subjects import MAIL_DEAD_LETTERS, MAIL_STREAM, READER_EVENTS, REGISTRY_EVENTS
from cardreg_testkit.waits import wait_until

STREAMS = [MAIL_STREAM, MAIL_DEAD_LETTERS, REGISTRY_EVENTS, READER_EVENTS]
BUCKETS = ("used_nonces", "challenge_keys")


async def test_streams_and_the_challenge_buckets_get_three_copies_on_a_cluster(nats_cluster_urls):
    nc = await bus.connect(nats_cluster_urls[0], name="test", allow_reconnect=False)
    try:
        js = nc.jetstream()
        await bus.ensure_streams(js, bus.replicated(STREAMS, 3))
        nonces = await NonceStore.open(
            nc, bucket="used_nonces", key_bucket="challenge_keys", ttl_seconds=120, replicas=3
        )

        async def bucket_has_a_leader() -> bool:
            # A new R3 stream answers writes once its three nodes have elected a leader; until
            # then a write gets no response (the service answers a retriable 503 meanwhile).
            infos = [await js.stream_info(f"KV_{b}") for b in BUCKETS]
            return all(i.cluster is not None and bool(i.cluster.leader) for i in infos)

        await wait_until(bucket_has_a_leader, timeout=15, what="the nonce bucket's leader")
        challenge = nonces.issue()
        for stream in STREAMS:
            info = await js.stream_info(stream.name)
            assert info.config.num_replicas == 3
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        for bucket in BUCKETS:
            assert (await js.stream_info(f"KV_{bucket}")).config.num_replicas == 3
        # Issued through one node, used up through another: the bucket is the cluster's.
        other = await bus.connect(nats_cluster_urls[2], name="test-2", allow_reconnect=False)
        try:
            from_other = await NonceStore.open(
                other, bucket="used_nonces", key_bucket="challenge_keys", ttl_seconds=120
            )
            await from_other.consume(challenge.nonce)
        finally:
            await other.close()
    finally:
        for stream in STREAMS:
            await nc.jetstream().delete_stream(stream.name)
        for bucket in BUCKETS:
            await nc.jetstream().delete_stream(f"KV_{bucket}")
        await nc.close()


async def test_one_copy_on_a_single_node(nats_url):
    nc = await bus.connect(nats_url, name="test", allow_reconnect=False)
    try:
        await bus.ensure_streams(nc.jetstream(), bus.replicated([MAIL_STREAM], 1))
        assert (await nc.jetstream().stream_info(MAIL_STREAM.name)).config.num_replicas == 1
    finally:
        await nc.close()


def test_the_count_comes_from_the_environment(monkeypatch):
    from cardreg_gateway.settings import GatewaySettings
    from cardreg_mailer.settings import MailerSettings
    from cardreg_registry.settings import RegistrySettings

    monkeypatch.setenv("CARDREG_JETSTREAM_REPLICAS", "3")
    for settings in (GatewaySettings(), MailerSettings(), RegistrySettings()):
        assert settings.jetstream_replicas == 3
    monkeypatch.setenv("CARDREG_JETSTREAM_REPLICAS", "0")
    with pytest.raises(ValueError):
        RegistrySettings()
