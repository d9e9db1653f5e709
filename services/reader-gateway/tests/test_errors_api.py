"""Every failure in one shape: validation, malformed or oversized bodies, routing, crashes."""

from __future__ import annotations

import json
import logging
import re

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.subjects import JWKS_GET, REGISTRATION_LOOKUP

from .conftest import PASSWORD


def assert_error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


async def test_invalid_fields_are_400_with_locations_but_no_values(
    replica, registry, person
) -> None:
    card = await replica.card_read(person)
    secret_id, secret_name = "Z999999999x", "陳秘密的名字太長了" * 3
    card |= {"id_no": secret_id, "name": secret_name, "sex": "unknown-sex"}
    reply = await replica.http.post(
        "/api/v1/sessions", json={"card": card, "password": "p" * 2000, "extra": "extra-value"}
    )
    error = assert_error(reply, 400, "invalid_request")
    locations = {tuple(f["loc"]) for f in error["fields"]}
    assert ("body", "card", "id_no") in locations
    assert ("body", "card", "name") in locations
    assert ("body", "card", "sex") in locations
    assert ("body", "password") in locations
    assert ("body", "extra") in locations
    for value in (secret_id, secret_name, "unknown-sex", "p" * 50, "extra-value"):
        assert value not in reply.text
    assert not registry.received[REGISTRATION_LOOKUP.name]


async def test_missing_body_is_400(replica) -> None:
    reply = await replica.http.post("/api/v1/registrations/lookup")
    error = assert_error(reply, 400, "invalid_request")
    assert error["fields"][0]["loc"] == ["body"]


async def test_malformed_json_is_400(replica) -> None:
    for raw in (b"{", b'{"card": ', b"\xff\xfe", b"[1, 2"):
        reply = await replica.http.post(
            "/api/v1/registrations/lookup",
            content=raw,
            headers={"content-type": "application/json"},
        )
        assert_error(reply, 400, "invalid_request")


async def test_a_body_that_is_not_json_is_400(replica) -> None:
    reply = await replica.http.post(
        "/api/v1/sessions", content=b"card=1", headers={"content-type": "text/plain"}
    )
    assert_error(reply, 400, "invalid_request")


async def test_oversized_body_is_413(replica, registry) -> None:
    big = json.dumps({"card": {"name": "x" * 70_000}}).encode()
    reply = await replica.http.post(
        "/api/v1/registrations/lookup", content=big, headers={"content-type": "application/json"}
    )
    assert_error(reply, 413, "payload_too_large")
    assert reply.headers["x-content-type-options"] == "nosniff"


async def test_oversized_streamed_body_without_length_is_413(replica) -> None:
    async def chunks():
        for _ in range(20):
            yield b" " * 8192

    reply = await replica.http.post(
        "/api/v1/sessions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in reply.request.headers
    assert_error(reply, 413, "payload_too_large")


async def test_body_under_the_limit_passes_the_edge(replica) -> None:
    padded = b'{"card": {}' + b" " * 60_000 + b"}"
    reply = await replica.http.post(
        "/api/v1/registrations/lookup", content=padded, headers={"content-type": "application/json"}
    )
    assert_error(reply, 400, "invalid_request")  # reached validation, not refused as too large


async def test_unknown_route_is_404_in_the_same_shape(replica) -> None:
    assert_error(await replica.http.get("/api/v1/nope"), 404, "not_found")
    assert_error(await replica.http.post("/nope"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(replica) -> None:
    reply = await replica.http.get("/api/v1/sessions")
    assert_error(reply, 405, "method_not_allowed")
    assert "POST" in reply.headers["allow"]


async def test_allow_lists_every_method_of_the_path_for_every_documented_path(replica) -> None:
    """One route per method: the `Allow` of a 405 names all of the path's routes, not the
    first one matched (`OPTIONS /api/v1/account` once said only GET)."""
    document = (await replica.http.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        documented = {method.upper() for method in operations}
        for method in ("OPTIONS", "TRACE", "HEAD"):
            if method in documented:
                continue
            # A path parameter gets a value of its shape (device ids: 22 base64url characters).
            reply = await replica.http.request(method, re.sub(r"\{[a-z_]+\}", "d" * 22, path))
            if method == "HEAD":  # no body to read
                assert reply.status_code == 405
            else:
                assert_error(reply, 405, "method_not_allowed")
            allowed = {m.strip() for m in reply.headers["allow"].split(",")}
            assert allowed == documented, path
    reply = await replica.http.options("/api/v1/account")
    assert reply.headers["allow"] == "GET, PATCH"


async def test_unexpected_exception_is_500_with_correlation_id_and_no_leak(replica, caplog) -> None:
    async def crash():
        secret = "A12345" + "6789"  # built here so no source line quotes it
        raise RuntimeError(f"secret {secret} in the message")

    replica.gateway.registry.jwks = crash
    with caplog.at_level(logging.INFO):
        reply = await replica.http.get("/.well-known/jwks.json")
    error = assert_error(reply, 500, "internal")
    assert len(error["correlation_id"]) == 32
    assert "A123456789" not in reply.text and "RuntimeError" not in reply.text
    assert reply.headers["cache-control"] == "no-store"
    logged = caplog.text
    assert error["correlation_id"] in logged
    assert "RuntimeError" in logged
    assert "A123456789" not in logged


async def test_registry_internal_without_correlation_id_gets_one(replica, registry) -> None:
    registry.failures = {JWKS_GET.name: ServiceFailure(ErrorCode.INTERNAL)}
    error = assert_error(await replica.http.get("/.well-known/jwks.json"), 500, "internal")
    assert error["correlation_id"]


async def test_registry_internal_keeps_its_correlation_id(replica, registry) -> None:
    registry.failures = {JWKS_GET.name: ServiceFailure(ErrorCode.INTERNAL, correlation_id="c0ffee")}
    error = assert_error(await replica.http.get("/.well-known/jwks.json"), 500, "internal")
    assert error["correlation_id"] == "c0ffee"


async def test_security_headers_on_every_reply(replica, registry) -> None:
    replies = [
        await replica.http.post("/api/v1/challenges"),
        await replica.http.get("/api/v1/nope"),
        await replica.http.post("/api/v1/sessions", json={}),
        await replica.http.get("/healthz"),
        await replica.http.get("/"),
        await replica.http.get("/openapi.json"),
    ]
    for reply in replies:
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["content-security-policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]


async def test_access_log_has_route_status_and_no_query_or_personal_data(
    replica, registry, person, caplog
) -> None:
    card = await replica.card_read(person)
    with caplog.at_level(logging.INFO, logger="cardreg.gateway.access"):
        await replica.http.get("/healthz?token=s3cr3t-token")
        await replica.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
        await replica.http.get(f"/api/v1/{person.card.id_no}")
    lines = [r.getMessage() for r in caplog.records if r.name == "cardreg.gateway.access"]
    assert lines[0].startswith("GET /healthz 200 ")
    assert lines[1].startswith("POST /api/v1/sessions 201 ")
    assert lines[2].startswith("GET <unmatched> 404 ")
    text = caplog.text
    for secret in ("s3cr3t-token", person.card.id_no, person.card.card_no, PASSWORD):
        assert secret not in text
