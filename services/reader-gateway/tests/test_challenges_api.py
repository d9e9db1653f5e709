"""`POST /api/v1/challenges`: fresh, unique, 32-byte nonces with the TTL reported."""

from __future__ import annotations

import re

from cardreg_gateway.domain.challenges import nonce_key
from cardreg_shared.models.common import b64url_decode


async def test_challenge_is_32_bytes_base64url_without_padding(replica) -> None:
    reply = await replica.http.post("/api/v1/challenges")
    assert reply.status_code == 201
    body = reply.json()
    assert set(body) == {"nonce", "expires_in"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["nonce"])
    assert len(b64url_decode(body["nonce"])) == 32
    assert body["expires_in"] == 120


async def test_challenges_are_unique_and_stored_by_hash(replica) -> None:
    nonces = [await replica.nonce() for _ in range(50)]
    assert len(set(nonces)) == 50
    kv = await replica.nc.jetstream().key_value("nonces")
    assert set(await kv.keys()) == {nonce_key(b64url_decode(n)) for n in nonces}


async def test_configured_ttl_is_reported_and_set_on_the_bucket(launch) -> None:
    replica = await launch(nonce_ttl_seconds=45)
    reply = await replica.http.post("/api/v1/challenges")
    assert reply.json()["expires_in"] == 45
    status = await (await replica.nc.jetstream().key_value("nonces")).status()
    assert status.ttl == 45
