"""Password input rules through the HTTP API: control characters, U+FFFD and passwords of
whitespace only are refused wherever a password is set (registration, change, reset) with
`weak_password` and the rule as `reason`; a login with such a password simply fails."""

from __future__ import annotations

import json

import pytest

from .system import error_code, reset_token

PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchid"

UNTYPABLE = [
    ("tea-mountain\x00harbour", "control_character"),  # a NUL inside
    ("\x00" * 8, "control_character"),
    ("\x01" * 8, "control_character"),
    ("\t\n\t\n\t\n\t\n", "control_character"),  # only tabs and newlines
    ("tea-mountain\x9bharbour", "control_character"),  # C1
    ("tea-mountain\ufffdharbour", "control_character"),
    (" " * 8, "whitespace_only"),
    ("\u3000" * 8, "whitespace_only"),  # ideographic spaces: spaces after NFKC
]


def _weak(reply, reason: str) -> None:
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == ("weak_password", reason)
    assert error["message"]


@pytest.mark.parametrize(("password", "reason"), UNTYPABLE)
def test_registration_refuses_untypable_passwords_before_the_proof(
    portal, people, password, reason
):
    me = people.citizen()
    _weak(portal.register(me, password), reason)
    assert portal.lookup(me).json()["registered"] is False
    assert portal.register(me, PASSWORD).status_code == 201  # no verification attempt spent


def test_change_and_reset_refuse_them_and_login_just_fails(portal, people, mailbox):
    me = people.citizen()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address).status_code == 201
    bearer = portal.bearer(me, PASSWORD)
    for password, reason in UNTYPABLE:
        body = {"current_password": PASSWORD, "new_password": password}
        _weak(portal.http.put("/api/v1/account/password", json=body, headers=bearer), reason)
    assert portal.login(me, PASSWORD).status_code == 201  # unchanged

    assert portal.forgot(me).status_code == 202
    token = reset_token(mailbox.wait_for(address)[0])
    for password, reason in UNTYPABLE[:3]:
        _weak(portal.complete(token, password), reason)
    assert portal.complete(token, NEW_PASSWORD).status_code == 204  # the link still worked

    # Login applies no rule: a wrong password is a wrong password.
    for password, _ in UNTYPABLE[:2]:
        assert error_code(portal.login(me, password)) == "invalid_credentials"
    assert portal.login(me, NEW_PASSWORD).status_code == 201


def test_text_that_is_not_unicode_is_a_bad_request_not_a_crash(portal, people):
    """A lone surrogate (`"\\ud800"` in JSON) cannot be encoded, so it cannot be hashed or
    sent on: 400, for a password and any other field."""
    me = people.citizen()
    lone = "tea-mountain\ud800harbour"

    def post(path: str, body: dict):
        raw = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as an escape
        assert b"\\ud800" in raw or b"\\udc00" in raw
        return portal.http.post(path, content=raw, headers={"Content-Type": "application/json"})

    registration = {"card": portal.card(me), "password": lone, **me.proof()}
    contact = {**registration, "card": portal.card(me), "password": PASSWORD}
    contact["email"] = f"x\udc00{me.card.card_no}@example.com"
    replies = [
        post("/api/v1/registrations", registration),
        post("/api/v1/sessions", {"card": portal.card(me), "password": lone}),
        post("/api/v1/registrations", contact),
    ]
    for reply in replies:
        assert reply.status_code == 400, reply.text
        assert error_code(reply) == "invalid_request"
    # A pair of surrogate escapes is one character (what json.dumps makes of an emoji): fine.
    keyed = {"card": portal.card(me), "password": "🔑 tea mountain harbour", **me.proof()}
    raw = json.dumps(keyed).encode()
    assert b"\\ud83d\\udd11" in raw
    reply = portal.http.post(
        "/api/v1/registrations", content=raw, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 201, reply.text
    assert portal.login(me, "🔑 tea mountain harbour").status_code == 201
