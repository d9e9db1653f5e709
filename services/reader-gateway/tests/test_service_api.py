"""Health, the placeholder page and the OpenAPI document."""

from __future__ import annotations

import httpx
from cardreg_gateway.app import create_app
from cardreg_gateway.settings import GatewaySettings

ROUTES = {
    ("post", "/api/v1/challenges"),
    ("post", "/api/v1/registrations/lookup"),
    ("post", "/api/v1/registrations"),
    ("post", "/api/v1/registrations/setup"),
    ("post", "/api/v1/sessions"),
    ("delete", "/api/v1/sessions/current"),
    ("get", "/api/v1/account"),
    ("patch", "/api/v1/account"),
    ("put", "/api/v1/account/password"),
    ("get", "/api/v1/account/activity"),
    ("post", "/api/v1/password-resets"),
    ("post", "/api/v1/password-resets/complete"),
    ("post", "/api/v1/account/devices/bindings"),
    ("get", "/api/v1/account/devices"),
    ("delete", "/api/v1/account/devices/{device_id}"),
    ("post", "/api/v1/device-bindings/options"),
    ("post", "/api/v1/device-bindings"),
    ("post", "/api/v1/device-sessions/options"),
    ("post", "/api/v1/device-sessions"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/.well-known/openid-configuration"),
    ("post", "/api/v1/authorizations"),
    ("get", "/api/v1/account/consents"),
    ("delete", "/api/v1/account/consents/{client_id}"),
    ("post", "/oauth2/token"),
    ("post", "/oauth2/revoke"),
    ("post", "/oauth2/introspect"),
    ("get", "/oauth2/userinfo"),
    ("post", "/oauth2/userinfo"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


async def test_ready_follows_the_nats_connection_while_live_stays_up(registry, replica) -> None:
    assert (await replica.http.get("/healthz")).json() == {"status": "ok"}
    assert (await replica.http.get("/readyz")).status_code == 200
    await replica.nc.close()
    reply = await replica.http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "unavailable"
    assert reply.json()["error"]["reason"] == "nats"
    # Live: the process answers; restarting it would not bring the bus back.
    assert (await replica.http.get("/healthz")).json() == {"status": "ok"}


async def test_ready_needs_the_registry_answering_discovery(launch) -> None:
    replica = await launch()  # no registry fixture: nothing answers $SRV.PING.registry
    reply = await replica.http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["error"]["reason"] == "registry"


async def test_closed_connection_makes_calls_unavailable_not_crash(replica) -> None:
    await replica.nc.close()
    for reply in (
        await replica.http.post("/api/v1/challenges"),
        await replica.http.get("/.well-known/jwks.json"),
    ):
        assert reply.status_code == 503
        assert reply.json()["error"]["code"] == "unavailable"


async def test_docs_page_serves_swagger_ui(replica) -> None:
    docs = await replica.http.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_docs_page_can_be_turned_off(launch) -> None:
    replica = await launch(docs_enabled=False)
    assert (await replica.http.get("/docs")).status_code == 404
    assert (await replica.http.get("/openapi.json")).status_code == 200


async def test_openapi_lists_every_route_with_documented_errors(replica) -> None:
    doc = (await replica.http.get("/openapi.json")).json()
    assert doc["info"]["title"] == "cardreg"
    assert doc["info"]["version"] == "0.1.0"
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert listed == ROUTES
    error_ref = "#/components/schemas/HttpErrorReply"
    for method, path in ROUTES:
        responses = doc["paths"][path][method]["responses"]
        assert "422" not in responses or "weak_password" in responses["422"]["description"]
        assert responses["default"]["content"]["application/json"]["schema"]["$ref"] == error_ref
    login = doc["paths"]["/api/v1/sessions"]["post"]["responses"]
    assert {"201", "400", "401", "413", "423"} <= set(login)
    assert "nonce_invalid" in login["400"]["description"]
    assert "invalid_credentials" in login["401"]["description"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path in (
        ("get", "/api/v1/account"),
        ("patch", "/api/v1/account"),
        ("put", "/api/v1/account/password"),
        ("post", "/api/v1/account/devices/bindings"),
        ("get", "/api/v1/account/devices"),
        ("delete", "/api/v1/account/devices/{device_id}"),
    ):
        assert doc["paths"][path][method]["security"] == [{"HTTPBearer": []}]


async def test_openapi_documents_recovery_and_settings(replica) -> None:
    paths = (await replica.http.get("/openapi.json")).json()["paths"]

    def described(path: str, method: str) -> dict[str, str]:
        responses = paths[path][method]["responses"]
        return {status: r["description"] for status, r in responses.items()}

    reset = described("/api/v1/password-resets", "post")
    assert {"202", "400", "401", "403", "413", "default"} == set(reset)
    for code in ("invalid_request", "nonce_invalid"):
        assert code in reset["400"]
    assert "card_unknown" in reset["401"] and "card_replaced" in reset["403"]
    accepted = paths["/api/v1/password-resets"]["post"]["responses"]["202"]
    assert accepted["content"]["application/json"]["schema"]["$ref"].endswith("/ResetAccepted")

    complete = described("/api/v1/password-resets/complete", "post")
    assert {"204", "400", "413", "422", "default"} == set(complete)
    assert "reset_token_invalid" in complete["400"] and "weak_password" in complete["422"]

    change = described("/api/v1/account/password", "put")
    assert {"204", "400", "401", "403", "413", "422", "423", "default"} == set(change)
    assert "invalid_credentials" in change["401"] and "unauthorized" in change["401"]
    assert "account_locked" in change["423"]

    patch = described("/api/v1/account", "patch")
    assert {"200", "400", "401", "403", "413", "default"} == set(patch)
    assert "invalid_request" in patch["400"]


def test_openapi_is_built_without_nats() -> None:
    doc = create_app(GatewaySettings()).openapi()
    assert doc["paths"]["/api/v1/registrations"]["post"]["responses"]["409"]


async def test_app_connects_and_drains_its_own_connection(nats_url) -> None:
    app = create_app(GatewaySettings(nats_url=nats_url))
    async with app.router.lifespan_context(app):
        gateway = app.state.gateway
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.post("/api/v1/challenges")).status_code == 201
    assert gateway.nc.is_closed
    assert app.state.gateway is None


async def test_calls_before_start_up_are_unavailable() -> None:
    app = create_app(GatewaySettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as http:
        reply = await http.post("/api/v1/challenges")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "unavailable"


async def test_openapi_states_the_constraints_the_api_enforces(replica) -> None:
    """Lengths and patterns of nonce and signature; the mail language is never null."""
    schemas = (await replica.http.get("/openapi.json")).json()["components"]["schemas"]
    card = schemas["CardRead"]["properties"]
    assert (card["nonce"]["minLength"], card["nonce"]["maxLength"]) == (43, 43)
    signature = next(s for s in card["signature"]["anyOf"] if s.get("type") == "string")
    assert (signature["minLength"], signature["maxLength"]) == (86, 86)
    assert signature["pattern"] == "^[A-Za-z0-9_-]{85}[AQgw]$"
    language = schemas["AccountChanges"]["properties"]["language"]
    assert language["enum"] == ["zh-TW", "en", "vi", "id", "th"] and "anyOf" not in language
    assert "default" not in language


OPERATOR_ROUTES = {
    ("post", "/api/v1/operator/sessions"),
    ("put", "/api/v1/operator/password"),
    ("post", "/api/v1/operator/people/search"),
    ("post", "/api/v1/operator/registrations"),
    ("post", "/api/v1/operator/accounts/{account_id}/setups"),
    ("post", "/api/v1/operator/deactivations"),
    ("post", "/api/v1/operator/reactivations"),
    ("get", "/api/v1/operator/accounts/{account_id}/events"),
    ("post", "/api/v1/operator/operators"),
    ("get", "/api/v1/operator/operators"),
    ("post", "/api/v1/operator/operators/{username}/disable"),
    ("post", "/api/v1/operator/operators/{username}/reset"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


def test_the_operator_app_serves_the_operator_api_only() -> None:
    from cardreg_gateway.app import create_app, create_operator_app
    from cardreg_gateway.settings import GatewaySettings

    settings = GatewaySettings()
    doc = create_operator_app(settings, create_app(settings)).openapi()
    assert {(m, p) for p, ops in doc["paths"].items() for m in ops} == OPERATOR_ROUTES
    assert settings.operator_port == 8081 and settings.operator_host == "127.0.0.1"
