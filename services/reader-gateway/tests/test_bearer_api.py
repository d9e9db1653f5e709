"""Bearer calls: log out, profile, and the public JWKS."""

from __future__ import annotations

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.subjects import ACCOUNT_GET, SESSION_REVOKE

from .conftest import VALID_TOKEN


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_profile_with_a_valid_token(replica, registry) -> None:
    reply = await replica.http.get("/api/v1/account", headers=bearer(VALID_TOKEN))
    assert reply.status_code == 200
    body = reply.json()
    assert body["account_id"] == "acc-1"
    assert body["id_no"] == "A12*****89"
    assert registry.received[ACCOUNT_GET.name][0].access_token == VALID_TOKEN


async def test_missing_or_malformed_bearer_is_401_without_asking_the_registry(
    replica, registry
) -> None:
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer two words"},
        {"Authorization": "Bearer " + "a" * 5000},
        {"Authorization": "Bearer tok\u00e9n".encode()},
    ):
        reply = await replica.http.get("/api/v1/account", headers=headers)
        assert reply.status_code == 401, headers
        assert reply.json()["error"]["code"] == "unauthorized"
        assert reply.headers["www-authenticate"] == "Bearer"
    assert not registry.received[ACCOUNT_GET.name]


async def test_unknown_token_is_401_from_the_registry(replica, registry) -> None:
    reply = await replica.http.get("/api/v1/account", headers=bearer("garbage.token.here"))
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "unauthorized"
    assert len(registry.received[ACCOUNT_GET.name]) == 1


async def test_log_out_is_204_then_refused_without_token(replica, registry) -> None:
    reply = await replica.http.delete("/api/v1/sessions/current", headers=bearer(VALID_TOKEN))
    assert reply.status_code == 204
    assert reply.content == b""
    assert registry.received[SESSION_REVOKE.name][0].access_token == VALID_TOKEN
    anonymous = await replica.http.delete("/api/v1/sessions/current")
    assert anonymous.status_code == 401


async def test_log_out_with_unknown_token_is_401(replica, registry) -> None:
    reply = await replica.http.delete("/api/v1/sessions/current", headers=bearer("nope"))
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "unauthorized"


async def test_jwks_is_public_and_cacheable(replica, registry) -> None:
    reply = await replica.http.get("/.well-known/jwks.json")
    assert reply.status_code == 200
    assert reply.json()["keys"][0] == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg",
        "kid": "k1",
        "use": "sig",
        "alg": "EdDSA",
    }
    assert reply.headers["cache-control"] == "public, max-age=300"


async def test_bearer_calls_without_registry_are_503(replica) -> None:
    reply = await replica.http.get("/api/v1/account", headers=bearer(VALID_TOKEN))
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "unavailable"


async def test_a_token_without_the_needed_scope_is_403_insufficient_scope(
    replica, registry
) -> None:
    """The registry decides which scope a call needs; the gateway answers as RFC 6750 says."""
    registry.failures[ACCOUNT_GET.name] = ServiceFailure(ErrorCode.INSUFFICIENT_SCOPE)
    reply = await replica.http.get("/api/v1/account", headers=bearer(VALID_TOKEN))
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "insufficient_scope"
    assert reply.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'


async def test_account_routes_document_scope_and_deactivation(replica) -> None:
    paths = (await replica.http.get("/openapi.json")).json()["paths"]
    for path, method in (
        ("/api/v1/account", "get"),
        ("/api/v1/account", "patch"),
        ("/api/v1/account/password", "put"),
    ):
        forbidden = paths[path][method]["responses"]["403"]["description"]
        assert "insufficient_scope" in forbidden and "account_deactivated" in forbidden
