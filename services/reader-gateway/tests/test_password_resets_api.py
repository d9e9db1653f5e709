"""Forgotten password (FAQ 7): one 202 whatever the account's state, card errors as elsewhere,
and a reset token that never shows in a reply or a log."""

from __future__ import annotations

import json
import logging
import re

import pytest
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.subjects import PASSWORD_RESET_COMPLETE, PASSWORD_RESET_REQUEST

from .conftest import RESET_TOKEN, card_read_events, new_person

RESETS = "/api/v1/password-resets"
COMPLETE = "/api/v1/password-resets/complete"
NEW_PASSWORD = "river lantern orchid"
RESIDENCE = {"issued_on": "2021-01-04", "expires_on": "2027-01-03", "serial_no": "SN1234567"}
ACCEPTED = {
    "status": "accepted",
    "message": "If this card has an active registration with an email address we can use, "
    "a reset link is on its way. The link works once and for a limited time.",
}


def error(reply) -> dict:
    return reply.json()["error"]


async def test_card_alone_is_accepted_and_forwarded(replica, registry, person) -> None:
    card = await replica.card_read(person)
    reply = await replica.http.post(RESETS, json={"card": card})
    assert reply.status_code == 202
    assert reply.json() == ACCEPTED
    [forwarded] = registry.received[PASSWORD_RESET_REQUEST.name]
    assert forwarded.card.model_dump(mode="json") == card
    assert (forwarded.household, forwarded.residence, forwarded.email) == (None, None, None)


async def test_proof_and_address_are_forwarded(replica, registry, person) -> None:
    card = await replica.card_read(person)
    body = {"card": card, **person.proof(), "email": "new@example.org"}
    assert (await replica.http.post(RESETS, json=body)).status_code == 202
    [forwarded] = registry.received[PASSWORD_RESET_REQUEST.name]
    assert forwarded.household == person.household
    assert forwarded.email == "new@example.org"


@pytest.mark.parametrize(
    "outcome",
    [
        None,
        ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED),
        ServiceFailure(ErrorCode.HOUSEHOLD_MISMATCH),
        ServiceFailure(ErrorCode.RESIDENCE_MISMATCH),
        ServiceFailure(ErrorCode.PROOF_KIND_MISMATCH),
        ServiceFailure(ErrorCode.VERIFICATION_LOCKED, retry_after=600),
        ServiceFailure(ErrorCode.ACCOUNT_LOCKED, retry_after=900),
        ServiceFailure(ErrorCode.NOT_FOUND, "no account for this card"),
    ],
    ids=lambda failure: failure.code.value if failure else "sent",
)
async def test_every_registry_outcome_gets_the_same_bytes(
    replica, registry, person, outcome
) -> None:
    """Nothing in the reply (status, body, headers) tells one account state from another."""
    shapes = [
        {},
        person.proof(),
        {**person.proof(), "email": "new@example.org"},
        {"residence": RESIDENCE, "email": "new@example.org"},
    ]
    baseline = None
    for shape in shapes:
        registry.failures = {}
        card = await replica.card_read(person)
        reference = await replica.http.post(RESETS, json={"card": card, **shape})
        if outcome is not None:
            registry.failures = {PASSWORD_RESET_REQUEST.name: outcome}
        card = await replica.card_read(person)
        reply = await replica.http.post(RESETS, json={"card": card, **shape})
        for answer in (reference, reply):
            assert answer.status_code == 202
            assert answer.content == json.dumps(ACCEPTED, separators=(",", ":")).encode()
            assert "retry-after" not in answer.headers
            # Every reply has a fresh random correlation id: it tells nothing either.
            assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-correlation-id"])
            headers = [h for h in answer.headers.items() if h[0] != "x-correlation-id"]
            seen = (answer.content, sorted(headers))
            baseline = baseline or seen
            assert seen == baseline
    assert len(registry.received[PASSWORD_RESET_REQUEST.name]) == 2 * len(shapes)


async def test_card_level_failures_answer_as_on_other_routes(replica, registry, person) -> None:
    stranger = new_person()  # not in the roster
    card = await replica.card_read(stranger)
    reply = await replica.http.post(RESETS, json={"card": card})
    assert (reply.status_code, error(reply)["code"]) == (401, "card_unknown")

    forged = new_person().model_copy(update={"card": person.card})  # right number, wrong key
    card = await replica.card_read(forged)
    reply = await replica.http.post(RESETS, json={"card": card})
    assert (reply.status_code, error(reply)["code"]) == (401, "card_signature_invalid")

    for failure, status in (
        (ServiceFailure(ErrorCode.CARD_DATA_MISMATCH), 401),
        (ServiceFailure(ErrorCode.CARD_REPLACED), 403),
        (ServiceFailure(ErrorCode.INVALID_REQUEST, "email: not an email address"), 400),
        (ServiceFailure(ErrorCode.INTERNAL, correlation_id="c0ffee"), 500),
    ):
        registry.failures = {PASSWORD_RESET_REQUEST.name: failure}
        card = await replica.card_read(person)
        reply = await replica.http.post(RESETS, json={"card": card})
        assert reply.status_code == status, failure.code
        assert error(reply)["code"] == failure.code.value
        assert error(reply)["message"] == failure.message


async def test_unknown_nonce_is_refused_before_the_registry(replica, registry, person) -> None:
    card = person.read(b64url_encode(bytes(range(32)))).model_dump(mode="json")
    reply = await replica.http.post(RESETS, json={"card": card})
    assert (reply.status_code, error(reply)["code"]) == (400, "nonce_invalid")
    assert not registry.received[PASSWORD_RESET_REQUEST.name]


async def test_replayed_nonce_is_nonce_invalid(replica, registry, person) -> None:
    body = {"card": await replica.card_read(person)}
    assert (await replica.http.post(RESETS, json=body)).status_code == 202
    replay = await replica.http.post(RESETS, json=body)
    assert (replay.status_code, error(replay)["code"]) == (400, "nonce_invalid")
    assert len(registry.received[PASSWORD_RESET_REQUEST.name]) == 1


async def test_no_registry_is_503(replica) -> None:
    card = await replica.card_read(new_person())
    reply = await replica.http.post(RESETS, json={"card": card})
    assert (reply.status_code, error(reply)["code"]) == (503, "unavailable")


async def test_invalid_bodies_are_400_and_leave_the_nonce_unused(replica, registry, person) -> None:
    card = await replica.card_read(person)
    for body in (
        {"card": card, **person.proof(), "residence": RESIDENCE},  # two proofs
        {"card": card, "email": "new@example.org"},  # an address without proof
        {"card": card, **person.proof(), "email": "x" * 300},
        {"card": card, "password": "not here"},
        {"card": {**card, "card_no": "12"}},
        {},
    ):
        reply = await replica.http.post(RESETS, json=body)
        assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request"), body
        assert "new@example.org" not in reply.text and "x" * 300 not in reply.text
    assert not registry.received[PASSWORD_RESET_REQUEST.name]
    assert (await replica.http.post(RESETS, json={"card": card})).status_code == 202


async def test_malformed_and_oversized_bodies(replica, registry) -> None:
    for path in (RESETS, COMPLETE):
        for raw in (b"{", b"\xff\xfe", b'{"card": '):
            reply = await replica.http.post(
                path, content=raw, headers={"content-type": "application/json"}
            )
            assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
        big = json.dumps({"token": "t" * 70_000, "new_password": NEW_PASSWORD}).encode()
        reply = await replica.http.post(
            path, content=big, headers={"content-type": "application/json"}
        )
        assert (reply.status_code, error(reply)["code"]) == (413, "payload_too_large")
    assert not registry.received[PASSWORD_RESET_REQUEST.name]
    assert not registry.received[PASSWORD_RESET_COMPLETE.name]


async def test_card_reads_are_recorded_with_the_real_outcome(replica, registry, person) -> None:
    body = {"card": await replica.card_read(person)}
    await replica.http.post(RESETS, json=body)
    await replica.http.post(RESETS, json=body)  # replay
    registry.failures = {PASSWORD_RESET_REQUEST.name: ServiceFailure(ErrorCode.HOUSEHOLD_MISMATCH)}
    card = await replica.card_read(person)
    masked = await replica.http.post(RESETS, json={"card": card, **person.proof()})
    assert masked.status_code == 202
    # Not a card read: the body never validated.
    await replica.http.post(RESETS, json={"card": {}})

    events = await card_read_events(replica, 3)
    assert [(e.flow, e.outcome) for e in events] == [
        ("password_reset", "ok"),
        ("password_reset", "nonce_invalid"),
        ("password_reset", "household_mismatch"),
    ]


async def test_complete_with_the_token_is_204(replica, registry) -> None:
    reply = await replica.http.post(
        COMPLETE, json={"token": RESET_TOKEN, "new_password": NEW_PASSWORD}
    )
    assert reply.status_code == 204
    assert reply.content == b""
    [forwarded] = registry.received[PASSWORD_RESET_COMPLETE.name]
    assert forwarded.token == RESET_TOKEN
    assert forwarded.new_password.get_secret_value() == NEW_PASSWORD


async def test_unknown_token_is_400_and_not_echoed(replica, registry) -> None:
    wrong = "wrong-" + RESET_TOKEN[6:]
    reply = await replica.http.post(COMPLETE, json={"token": wrong, "new_password": NEW_PASSWORD})
    assert (reply.status_code, error(reply)["code"]) == (400, "reset_token_invalid")
    assert error(reply)["message"] == ServiceFailure(ErrorCode.RESET_TOKEN_INVALID).message
    assert wrong not in reply.text


async def test_weak_new_password_is_422_with_its_reason(replica, registry) -> None:
    registry.failures = {
        PASSWORD_RESET_COMPLETE.name: ServiceFailure(ErrorCode.WEAK_PASSWORD, reason="too_common")
    }
    reply = await replica.http.post(COMPLETE, json={"token": RESET_TOKEN, "new_password": "123"})
    assert (reply.status_code, error(reply)["code"]) == (422, "weak_password")
    assert error(reply)["reason"] == "too_common"


async def test_complete_bodies_that_do_not_validate(replica, registry) -> None:
    long_token = "L" * 300
    for body in (
        {"token": long_token, "new_password": NEW_PASSWORD},
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": RESET_TOKEN},
        {"token": RESET_TOKEN, "new_password": NEW_PASSWORD, "extra": RESET_TOKEN},
        {"token": [RESET_TOKEN], "new_password": NEW_PASSWORD},
    ):
        reply = await replica.http.post(COMPLETE, json=body)
        assert (reply.status_code, error(reply)["code"]) == (400, "invalid_request")
        assert RESET_TOKEN not in reply.text and long_token not in reply.text
    assert not registry.received[PASSWORD_RESET_COMPLETE.name]


async def test_the_token_never_reaches_the_logs(replica, registry, person, caplog) -> None:
    wrong = "Wr0ngT0ken" + RESET_TOKEN[10:]
    with caplog.at_level(logging.DEBUG):
        for body in (
            {"token": RESET_TOKEN, "new_password": NEW_PASSWORD},
            {"token": wrong, "new_password": NEW_PASSWORD},
            {"token": RESET_TOKEN, "new_password": NEW_PASSWORD, "extra": RESET_TOKEN},
        ):
            await replica.http.post(COMPLETE, json=body)
        # As a reset link would carry it, should a client send it on.
        await replica.http.post(f"{COMPLETE}?token={RESET_TOKEN}", json={})
        await replica.http.post(RESETS, json={"card": await replica.card_read(person)})
    lines = [r.getMessage() for r in caplog.records if r.name == "cardreg.gateway.access"]
    assert [line.split()[:3] for line in lines[:4]] == [
        ["POST", COMPLETE, "204"],
        ["POST", COMPLETE, "400"],
        ["POST", COMPLETE, "400"],
        ["POST", COMPLETE, "400"],
    ]
    assert ["POST", RESETS, "202"] in [line.split()[:3] for line in lines]
    # Everything the server side logged (httpx is this test's own client).
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name != "httpx"
    )
    for secret in (RESET_TOKEN, wrong, NEW_PASSWORD):
        assert secret not in logged
