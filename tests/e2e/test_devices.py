"""FAQ 10 end to end over HTTP: bind a phone from a card login (the QR code and the link),
log in on it with the ID number, the password and the passkey, and what that token may do.
The passkey is the test kit's software authenticator; tests/browser has Chromium's."""

from __future__ import annotations

from urllib.parse import unquote

from cardreg_testkit.passkey import SoftPasskey

from .system import error_code

PASSWORD = "tea-mountain-harbour"


def bind(portal, bearer: dict[str, str], phone: SoftPasskey, system) -> str:
    link = portal.http.post("/api/v1/account/devices/bindings", headers=bearer)
    assert link.status_code == 201, link.text
    body = link.json()
    assert body["expires_in"] == 300
    assert body["binding_url"].startswith(f"{system.public_url}/m/#binding=")
    prefix = "data:image/svg+xml;charset=utf-8,"
    assert body["qr_code"].startswith(prefix)
    svg = unquote(body["qr_code"].removeprefix(prefix))
    assert svg.startswith("<svg") and "<script" not in svg
    binding = body["binding_url"].partition("#binding=")[2]
    options = portal.http.post("/api/v1/device-bindings/options", json={"binding": binding})
    assert options.status_code == 200, options.text
    public_key = options.json()["publicKey"]
    assert public_key["rp"]["id"] == "localhost"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    credential = phone.create(public_key)
    bound = portal.http.post(
        "/api/v1/device-bindings",
        json={"binding": binding, "name": "Mei's phone", "credential": credential},
    )
    assert bound.status_code == 201, bound.text
    return bound.json()["device_id"]


def device_login(portal, id_no: str, phone: SoftPasskey, password: str = PASSWORD):
    options = portal.http.post("/api/v1/device-sessions/options", json={"id_no": id_no})
    assert options.status_code == 200, options.text
    credential = phone.get(options.json()["publicKey"])
    return portal.http.post(
        "/api/v1/device-sessions",
        json={"id_no": id_no, "password": password, "credential": credential},
    )


def test_a_phone_bound_from_the_portal_logs_in_for_passbook_and_counter_only(
    portal, people, system
):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    phone = SoftPasskey(system.public_url)
    device_id = bind(portal, bearer, phone, system)

    listed = portal.http.get("/api/v1/account/devices", headers=bearer).json()["devices"]
    assert [(d["device_id"], d["name"]) for d in listed] == [(device_id, "Mei's phone")]

    login = device_login(portal, me.card.id_no, phone)
    assert login.status_code == 201, login.text
    assert login.json()["scope"] == "passbook counter"
    on_phone = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for method, path, body in (
        ("GET", "/api/v1/account", None),
        ("PATCH", "/api/v1/account", {"phone": "0912000000"}),
        (
            "PUT",
            "/api/v1/account/password",
            {"current_password": PASSWORD, "new_password": "x" * 20},
        ),
        ("GET", "/api/v1/account/devices", None),
        ("POST", "/api/v1/account/devices/bindings", None),
        ("DELETE", f"/api/v1/account/devices/{device_id}", None),
    ):
        reply = portal.http.request(method, path, headers=on_phone, json=body)
        assert reply.status_code == 403, (method, path, reply.text)
        assert error_code(reply) == "insufficient_scope"
        assert reply.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'

    removed = portal.http.delete(f"/api/v1/account/devices/{device_id}", headers=bearer)
    assert removed.status_code == 204
    assert error_code(device_login(portal, me.card.id_no, phone)) == "invalid_credentials"
    assert error_code(portal.http.get("/api/v1/account/devices", headers=on_phone)) == (
        "unauthorized"
    )


def test_unknown_id_numbers_and_unverified_users_are_refused_alike(portal, people, system):
    me = people.citizen()
    assert portal.register(me, PASSWORD).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    phone = SoftPasskey(system.public_url)
    bind(portal, bearer, phone, system)
    stranger = people.citizen()
    assert error_code(device_login(portal, stranger.card.id_no, phone)) == "invalid_credentials"
    phone.user_verified = False
    assert error_code(device_login(portal, me.card.id_no, phone)) == "invalid_credentials"
    phone.user_verified = True
    assert error_code(device_login(portal, me.card.id_no, phone, "wrong-password")) == (
        "invalid_credentials"
    )
    assert device_login(portal, me.card.id_no, phone).status_code == 201
