"""Settings of the signed-in account: contact details and mail language (FAQ 9), password
change (FAQ 8), and the mail language chosen at registration."""

from __future__ import annotations

import json

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.subjects import ACCOUNT_REGISTER, ACCOUNT_UPDATE, PASSWORD_CHANGE

from .conftest import PASSWORD, VALID_TOKEN

ACCOUNT = "/api/v1/account"
PASSWORD_PATH = "/api/v1/account/password"
NEW_PASSWORD = "river lantern orchid"
AUTH = {"Authorization": f"Bearer {VALID_TOKEN}"}


def error(reply) -> dict:
    return reply.json()["error"]


async def test_patch_changes_details_and_replies_with_the_masked_profile(replica, registry) -> None:
    changes = {"email": "new@example.org", "phone": "0912345678", "language": "en"}
    reply = await replica.http.patch(ACCOUNT, json=changes, headers=AUTH)
    assert reply.status_code == 200
    profile = reply.json()
    assert (profile["email"], profile["phone"], profile["language"]) == ("n***", "0***", "en")
    assert profile["account_id"] == "acc-1"
    assert "new@example.org" not in reply.text and "0912345678" not in reply.text
    [forwarded] = registry.received[ACCOUNT_UPDATE.name]
    assert forwarded.access_token == VALID_TOKEN
    assert (forwarded.email, forwarded.phone, forwarded.language) == (
        "new@example.org",
        "0912345678",
        "en",
    )


async def test_patch_leaves_out_what_is_absent_and_removes_what_is_null(replica, registry) -> None:
    for changes in ({"phone": None}, {"phone": ""}, {"language": "zh-TW"}, {}):
        reply = await replica.http.patch(ACCOUNT, json=changes, headers=AUTH)
        assert reply.status_code == 200, changes
    forwarded = [(r.email, r.phone, r.language) for r in registry.received[ACCOUNT_UPDATE.name]]
    assert forwarded == [
        (None, "", None),
        (None, "", None),
        (None, None, "zh-TW"),
        (None, None, None),
    ]


async def test_patch_refuses_bad_fields_without_asking_the_registry(replica, registry) -> None:
    for changes in (
        {"language": None},
        {"language": "fr"},
        {"email": "x" * 300 + "@example.org"},
        {"phone": "0" * 40},
        {"email": 42},
        {"nickname": "wang"},
    ):
        reply = await replica.http.patch(ACCOUNT, json=changes, headers=AUTH)
        assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request"), changes
        assert "x" * 300 not in reply.text and "0" * 40 not in reply.text
    assert not registry.received[ACCOUNT_UPDATE.name]


async def test_patch_passes_the_registry_validation_message_through(replica, registry) -> None:
    reply = await replica.http.patch(ACCOUNT, json={"email": "not-an-address"}, headers=AUTH)
    assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
    assert error(reply)["message"] == "email: not an email address"
    assert "not-an-address" not in reply.text


async def test_settings_need_a_bearer_token(replica, registry) -> None:
    calls = (
        ("PATCH", ACCOUNT, {"email": "new@example.org"}),
        ("PUT", PASSWORD_PATH, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    for method, path, body in calls:
        for headers in ({}, {"Authorization": "Bearer two words"}, {"Authorization": "Basic x"}):
            reply = await replica.http.request(method, path, json=body, headers=headers)
            assert (reply.status_code, error(reply)["code"]) == (401, "unauthorized")
            assert reply.headers["www-authenticate"] == "Bearer"
    assert not registry.received[ACCOUNT_UPDATE.name]
    assert not registry.received[PASSWORD_CHANGE.name]

    unknown = {"Authorization": "Bearer unknown.token.value"}
    for method, path, body in calls:
        reply = await replica.http.request(method, path, json=body, headers=unknown)
        assert (reply.status_code, error(reply)["code"]) == (401, "unauthorized")


async def test_password_change_is_204(replica, registry) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    reply = await replica.http.put(PASSWORD_PATH, json=body, headers=AUTH)
    assert reply.status_code == 204
    assert reply.content == b""
    [forwarded] = registry.received[PASSWORD_CHANGE.name]
    assert forwarded.access_token == VALID_TOKEN
    assert forwarded.current_password.get_secret_value() == PASSWORD
    assert forwarded.new_password.get_secret_value() == NEW_PASSWORD


async def test_password_change_errors_keep_their_code_and_status(replica, registry) -> None:
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    reply = await replica.http.put(PASSWORD_PATH, json=wrong, headers=AUTH)
    assert (reply.status_code, error(reply)["code"]) == (401, "invalid_credentials")
    assert "www-authenticate" not in reply.headers

    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    for failure, status in (
        (ServiceFailure(ErrorCode.ACCOUNT_LOCKED, retry_after=900), 423),
        (ServiceFailure(ErrorCode.WEAK_PASSWORD, reason="contains_id_number"), 422),
        (ServiceFailure(ErrorCode.UNAUTHORIZED), 401),
    ):
        registry.failures = {PASSWORD_CHANGE.name: failure}
        reply = await replica.http.put(PASSWORD_PATH, json=body, headers=AUTH)
        assert reply.status_code == status
        assert error(reply)["code"] == failure.code.value
        if failure.reason:
            assert error(reply)["reason"] == failure.reason
        if failure.retry_after:
            assert reply.headers["retry-after"] == "900"


async def test_password_change_bodies_that_do_not_validate(replica, registry) -> None:
    secret = "s3cret-" + "p" * 1100
    for body in (
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": secret},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": "x"},
    ):
        reply = await replica.http.put(PASSWORD_PATH, json=body, headers=AUTH)
        assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
        assert "s3cret-" not in reply.text and PASSWORD not in reply.text
    reply = await replica.http.put(
        PASSWORD_PATH,
        content=b'{"current_password": ',
        headers=AUTH | {"content-type": "application/json"},
    )
    assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
    assert not registry.received[PASSWORD_CHANGE.name]


async def test_oversized_settings_bodies_are_413(replica, registry) -> None:
    big = json.dumps({"email": "e" * 70_000}).encode()
    headers = AUTH | {"content-type": "application/json"}
    for method, path in (("PATCH", ACCOUNT), ("PUT", PASSWORD_PATH)):
        reply = await replica.http.request(method, path, content=big, headers=headers)
        assert (reply.status_code, error(reply)["code"]) == (413, "payload_too_large")
    assert not registry.received[ACCOUNT_UPDATE.name]


async def test_registration_forwards_the_mail_language(replica, registry, person) -> None:
    for extra in ({"language": "en"}, {}):
        card = await replica.card_read(person)
        body = {"card": card, **person.proof(), "password": PASSWORD, **extra}
        assert (await replica.http.post("/api/v1/registrations", json=body)).status_code == 201
    card = await replica.card_read(person)
    body = {"card": card, **person.proof(), "password": PASSWORD, "language": "fr"}
    reply = await replica.http.post("/api/v1/registrations", json=body)
    assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
    languages = [r.language for r in registry.received[ACCOUNT_REGISTER.name]]
    assert languages == ["en", "zh-TW"]
