"""`POST /api/v1/challenges`: fresh, unique, 32-byte nonces with the TTL reported."""

from __future__ import annotations

import re
import time

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


async def test_challenges_are_unique_and_only_used_ones_are_stored_by_hash(replica) -> None:
    nonces = [await replica.nonce() for _ in range(50)]
    assert len(set(nonces)) == 50
    for nonce in nonces[:3]:
        await replica.gateway.nonces.consume(nonce)
    kv = await replica.nc.jetstream().key_value("used_nonces")
    assert set(await kv.keys()) == {nonce_key(b64url_decode(n)) for n in nonces[:3]}


async def test_configured_ttl_is_reported_and_carried_by_the_nonce(launch) -> None:
    replica = await launch(nonce_ttl_seconds=45)
    before = time.time()
    reply = await replica.http.post("/api/v1/challenges")
    assert reply.json()["expires_in"] == 45
    expires_at = int.from_bytes(b64url_decode(reply.json()["nonce"])[:4], "big")
    assert int(before) + 45 <= expires_at <= time.time() + 45


async def test_no_body_or_an_empty_json_object_is_all_it_takes(replica) -> None:
    for content, media_type in ((b"", None), (b"{}", "application/json"),
                                (b' { }\n', "application/json; charset=utf-8")):  # fmt: skip
        headers = {"Content-Type": media_type} if media_type else {}
        reply = await replica.http.post("/api/v1/challenges", content=content, headers=headers)
        assert reply.status_code == 201, (content, reply.text)


async def test_any_other_body_is_a_typed_400(replica) -> None:
    json_type = {"Content-Type": "application/json"}
    for content, headers in (
        (b"\xff\xfe{}", json_type),  # not UTF-8
        ("{}".encode("utf-16"), json_type),  # valid JSON in UTF-16, still not UTF-8
        (b"{}\x00", json_type),  # a NUL byte
        (b'{"\\u0000": 1}', json_type),
        (b"{}", {"Content-Type": "text/plain"}),
        (b"hello", {"Content-Type": "text/plain"}),
        (b"{}", {}),  # a body without a media type
        (b"null", json_type),
        (b"[]", json_type),
        (b'""', json_type),
        (b'{"nonce": "mine"}', json_type),
        (b"{", json_type),
    ):
        reply = await replica.http.post("/api/v1/challenges", content=content, headers=headers)
        assert reply.status_code == 400, (content, reply.text)
        assert reply.json()["error"]["code"] == "invalid_request"
    assert reply.headers["content-type"] == "application/json"


async def test_the_schema_says_what_it_takes_and_gives(replica) -> None:
    operation = (await replica.http.get("/openapi.json")).json()["paths"]["/api/v1/challenges"]
    body = operation["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"]["maxProperties"] == 0
    document = (await replica.http.get("/openapi.json")).json()
    nonce = document["components"]["schemas"]["ChallengeReply"]["properties"]["nonce"]
    assert (nonce["minLength"], nonce["maxLength"]) == (43, 43)
    assert re.fullmatch(
        nonce["pattern"], (await replica.http.post("/api/v1/challenges")).json()["nonce"]
    )
