"""Malformed or invalid requests on every registry subject: a typed `invalid_request`, never a timeout."""

from __future__ import annotations

import json

import pytest
from cardreg_shared.subjects import owned_by
from nats.micro.request import ERROR_CODE_HEADER

REGISTRY_SUBJECTS = [s.name for s in owned_by("registry")]
GARBAGE = [b"", b"{", b"[]", b"null", b'"text"', b"\xff\xfe\x00", b'{"unexpected": 1}']


async def ask(api, subject: str, body: bytes) -> dict:
    msg = await api.nc.request(subject, body, timeout=3)
    return {"status": (msg.headers or {}).get(ERROR_CODE_HEADER), **json.loads(msg.data)}


def test_every_registry_subject_is_covered():
    assert set(REGISTRY_SUBJECTS) == {
        "registry.registration.lookup",
        "registry.account.register",
        "registry.session.create",
        "registry.session.revoke",
        "registry.account.get",
        "registry.jwks.get",
        "registry.password_reset.request",
        "registry.password_reset.complete",
        "registry.password.change",
        "registry.account.update",
        "registry.device_binding.start",
        "registry.device_binding.options",
        "registry.device_binding.complete",
        "registry.device.list",
        "registry.device.remove",
        "registry.device_session.options",
        "registry.device_session.create",
        "registry.oidc.authorize",
        "registry.oidc.endpoint",
        "registry.oidc.consents.list",
        "registry.oidc.consents.withdraw",
        "registry.operator_session.create",
        "registry.operator_password.change",
        "registry.counter.search",
        "registry.counter.register",
        "registry.employer.register",
        "registry.counter.setup_issue",
        "registry.counter.deactivate",
        "registry.counter.reactivate",
        "registry.setup.complete",
        "registry.account.activity",
        "registry.counter.account_events",
        "registry.operator.add",
        "registry.operator.list",
        "registry.operator.disable",
        "registry.operator.reset",
    }


@pytest.mark.parametrize("subject", REGISTRY_SUBJECTS)
async def test_garbage_is_invalid_request(api, subject):
    for body in GARBAGE:
        reply = await ask(api, subject, body)
        assert reply["status"] == "400", (subject, body)
        assert reply["error"]["code"] == "invalid_request"


async def test_jwks_answers_an_empty_object(api):
    assert (await ask(api, "registry.jwks.get", b"{}"))["keys"]


def card_json(identity) -> dict:
    return identity.enrol("citizen").read().model_dump(mode="json")


async def test_invalid_card_fields_are_invalid_request(api, identity):
    for change in (
        {"nonce": "c2hvcnQ"},  # not 32 bytes
        {"signature": "!!!"},
        {"card_no": "12345"},
        {"id_no": "a123456789"},
        {"birth_date": "1990-13-40"},
        {"sex": "X"},
    ):
        card = {**card_json(identity), **change}
        reply = await ask(api, "registry.registration.lookup", json.dumps({"card": card}).encode())
        assert reply["error"]["code"] == "invalid_request", change
        # The message names fields and rules, never the values sent.
        assert card["id_no"] not in reply["error"]["message"]
    assert identity.calls["card"] == 0


async def test_registration_needs_exactly_one_proof(api, identity):
    me = identity.enrol("citizen")
    base = {"card": me.read().model_dump(mode="json"), "password": "tea-mountain-harbour"}
    household = me.household.model_dump()
    residence = {"issued_on": "2023-01-01", "expires_on": "2026-01-01", "serial_no": "YD12345678"}
    for body in (base, {**base, "household": household, "residence": residence}):
        reply = await ask(api, "registry.account.register", json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request"


async def test_register_with_an_overlong_email_or_unknown_channel_is_invalid(api, identity):
    me = identity.enrol("citizen")
    base = {
        "card": me.read().model_dump(mode="json"),
        "password": "tea-mountain-harbour",
        "household": me.household.model_dump(),
    }
    for extra in ({"email": "a" * 250 + "@example.com"}, {"channel": "fax"}, {"phone": "0" * 40}):
        reply = await ask(api, "registry.account.register", json.dumps({**base, **extra}).encode())
        assert reply["error"]["code"] == "invalid_request", extra
    assert (await api.lookup(me)).registered is False


async def test_login_without_password_or_with_a_huge_one_is_invalid(api, identity):
    card = card_json(identity)
    for body in ({"card": card}, {"card": card, "password": "x" * 5000}):
        reply = await ask(api, "registry.session.create", json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("subject", ["registry.session.revoke", "registry.account.get"])
async def test_token_requests_need_a_non_empty_token(api, subject):
    for body in ({}, {"access_token": ""}, {"access_token": 42}, {"access_token": "x" * 5000}):
        reply = await ask(api, subject, json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request", body


async def test_the_service_keeps_serving_after_bad_input(api, identity):
    for body in GARBAGE:
        await ask(api, "registry.session.create", body)
    me = identity.enrol("citizen")
    assert (await api.register(me)).status == "active"
    assert (await api.login(me)).access_token


async def test_reset_request_with_two_proofs_or_bad_fields_is_invalid(api, identity):
    me = identity.enrol("citizen")
    card = me.read().model_dump(mode="json")
    household = me.household.model_dump()
    residence = {"issued_on": "2023-01-01", "expires_on": "2026-01-01", "serial_no": "YD12345678"}
    for body in (
        {},
        {"card": card, "household": household, "residence": residence},
        {"card": card, "email": "a" * 250 + "@example.com"},
        {"card": card, "household": {"household_no": "F1234567"}},
        {"card": card, "host": "evil.example.net"},  # nothing from the request builds the link
    ):
        reply = await ask(api, "registry.password_reset.request", json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request", body
    assert identity.calls["card"] == 0


async def test_reset_completion_needs_a_sane_token_and_a_password(api):
    for body in (
        {"new_password": "river-lantern-orchid"},
        {"token": "", "new_password": "river-lantern-orchid"},
        {"token": "t" * 300, "new_password": "river-lantern-orchid"},
        {"token": "abc"},
        {"token": "abc", "new_password": "x" * 5000},
    ):
        reply = await ask(api, "registry.password_reset.complete", json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request", body


async def test_password_change_and_update_bodies_are_checked(api):
    for subject, body in (
        ("registry.password.change", {"access_token": "t", "current_password": "x"}),
        ("registry.password.change", {"current_password": "x", "new_password": "y"}),
        ("registry.account.update", {"access_token": "t", "language": "fr"}),
        ("registry.account.update", {"access_token": "t", "phone": "0" * 40}),
        ("registry.account.update", {"access_token": "t", "nickname": "mei"}),
        ("registry.account.update", {"email": "a@example.com"}),
    ):
        reply = await ask(api, subject, json.dumps(body).encode())
        assert reply["status"] == "400" and reply["error"]["code"] == "invalid_request", body


async def test_valid_bodies_with_a_bad_token_are_unauthorized_not_invalid(api):
    for subject, body in (
        (
            "registry.password.change",
            {"access_token": "t", "current_password": "x", "new_password": "y"},
        ),
        ("registry.account.update", {"access_token": "t", "language": "en"}),
    ):
        reply = await ask(api, subject, json.dumps(body).encode())
        assert reply["error"]["code"] == "unauthorized", subject


async def test_device_requests_with_bad_fields_are_invalid(api):
    credential = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}
    for subject, body in (
        ("registry.device_binding.options", {"binding": "short"}),
        ("registry.device_binding.options", {"binding": "x" * 40 + "!"}),
        ("registry.device_binding.complete", {"binding": "x" * 43, "name": " ", "credential": {}}),
        (
            "registry.device_binding.complete",
            {"binding": "x" * 43, "name": "n" * 65, "credential": {}},
        ),
        (
            "registry.device_binding.complete",
            {"binding": "x" * 43, "name": "phone", "credential": {"big": "x" * 17000}},
        ),
        ("registry.device.remove", {"access_token": "t", "device_id": ""}),
        ("registry.device_session.options", {"id_no": "a123456789"}),
        (
            "registry.device_session.create",
            {"id_no": "A123456789", "password": "x" * 5000, "credential": credential},
        ),
        ("registry.device_session.create", {"id_no": "A123456789", "credential": credential}),
    ):
        reply = await ask(api, subject, json.dumps(body).encode())
        assert reply["error"]["code"] == "invalid_request", (subject, body)
        assert "A123456789" not in reply["error"]["message"]


async def test_a_malformed_passkey_is_refused_with_a_typed_error(api, identity):
    body = {
        "id_no": "A123456789",
        "password": "tea-mountain-harbour",
        "credential": {"rawId": 5, "response": {"clientDataJSON": "!!"}},
    }
    reply = await ask(api, "registry.device_session.create", json.dumps(body).encode())
    assert reply["error"]["code"] == "invalid_credentials"
