"""Calls that carry a card: single-use nonces across replicas, flows, typed errors, events."""

from __future__ import annotations

import asyncio

from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.registry import LookupReply
from cardreg_shared.subjects import (
    ACCOUNT_REGISTER,
    CARD_READ,
    READER_EVENTS,
    REGISTRATION_LOOKUP,
    SESSION_CREATE,
)

from .conftest import PASSWORD, VALID_TOKEN, card_read_events, new_person


def registration(person, card: dict) -> dict:
    return {"card": card, **person.proof(), "password": PASSWORD, "email": "wang@example.org"}


async def test_lookup_maps_the_registry_reply(replica, registry, person) -> None:
    registry.lookup_reply = LookupReply(registered=False, status=None)
    card = await replica.card_read(person)
    reply = await replica.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 200
    assert reply.json() == {"registered": False, "status": None}


async def test_registration_forwards_the_online_channel_and_echoes_nothing_personal(
    replica, registry, person
) -> None:
    card = await replica.card_read(person)
    reply = await replica.http.post("/api/v1/registrations", json=registration(person, card))
    assert reply.status_code == 201
    assert reply.json() == {"account_id": "acc-1", "status": "active"}
    forwarded = registry.received[ACCOUNT_REGISTER.name][0]
    assert forwarded.channel == "online"
    assert forwarded.password.get_secret_value() == PASSWORD
    assert forwarded.household == person.household
    assert forwarded.email == "wang@example.org"


async def test_registration_needs_exactly_one_proof(replica, registry, person) -> None:
    card = await replica.card_read(person)
    both = registration(person, card) | {
        "residence": {"issued_on": "2020-01-01", "expires_on": "2030-01-01", "serial_no": "X1"}
    }
    neither = {k: v for k, v in registration(person, card).items() if k != "household"}
    for body in (both, neither):
        reply = await replica.http.post("/api/v1/registrations", json=body)
        assert reply.status_code == 400
        assert reply.json()["error"]["code"] == "invalid_request"
    assert not registry.received[ACCOUNT_REGISTER.name]


async def test_login_returns_a_bearer_token(replica, registry, person) -> None:
    card = await replica.card_read(person)
    reply = await replica.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
    assert reply.status_code == 201
    assert reply.json() == {
        "access_token": VALID_TOKEN,
        "token_type": "Bearer",
        "expires_in": 900,
        "card_updated": False,
    }


async def test_replayed_card_read_is_nonce_invalid(replica, registry, person) -> None:
    card = await replica.card_read(person)
    body = {"card": card, "password": PASSWORD}
    assert (await replica.http.post("/api/v1/sessions", json=body)).status_code == 201
    replay = await replica.http.post("/api/v1/sessions", json=body)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "nonce_invalid"
    assert len(registry.received[SESSION_CREATE.name]) == 1


async def test_unknown_nonce_is_refused_before_the_registry(replica, registry, person) -> None:
    card = person.read(b64url_encode(bytes(range(32)))).model_dump(mode="json")
    reply = await replica.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "nonce_invalid"
    assert not registry.received[REGISTRATION_LOOKUP.name]


async def test_replicas_share_nonces(launch, registry, person) -> None:
    a, b = await asyncio.gather(launch(), launch())
    card = await a.card_read(person)
    on_b = await b.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert on_b.status_code == 200
    on_a = await a.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert on_a.status_code == 400
    assert on_a.json()["error"]["code"] == "nonce_invalid"


async def test_concurrent_double_submit_lets_exactly_one_through(launch, registry, person) -> None:
    a, b = await launch(), await launch()
    for _ in range(3):
        body = {"card": await a.card_read(person), "password": PASSWORD}
        replies = await asyncio.gather(
            a.http.post("/api/v1/sessions", json=body),
            b.http.post("/api/v1/sessions", json=body),
            a.http.post("/api/v1/sessions", json=body),
            b.http.post("/api/v1/sessions", json=body),
        )
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [201, 400, 400, 400]
        refused = [r.json()["error"]["code"] for r in replies if r.status_code == 400]
        assert refused == ["nonce_invalid"] * 3


async def test_a_forged_signature_is_refused_by_the_check(replica, registry, person) -> None:
    impostor = new_person()  # same card number, another key
    forged = impostor.model_copy(update={"card": person.card})
    card = await replica.card_read(forged)
    reply = await replica.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "card_signature_invalid"


async def test_typed_registry_errors_keep_their_code_and_status(replica, registry, person) -> None:
    cases = [
        (SESSION_CREATE, ServiceFailure(ErrorCode.ACCOUNT_LOCKED, retry_after=900), 423),
        (SESSION_CREATE, ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED), 403),
        (SESSION_CREATE, ServiceFailure(ErrorCode.CARD_REPLACED), 403),
        (ACCOUNT_REGISTER, ServiceFailure(ErrorCode.ALREADY_REGISTERED), 409),
        (ACCOUNT_REGISTER, ServiceFailure(ErrorCode.WEAK_PASSWORD, reason="too_short"), 422),
        (ACCOUNT_REGISTER, ServiceFailure(ErrorCode.HOUSEHOLD_MISMATCH), 403),
        (ACCOUNT_REGISTER, ServiceFailure(ErrorCode.VERIFICATION_LOCKED, retry_after=60), 429),
        (REGISTRATION_LOOKUP, ServiceFailure(ErrorCode.CARD_UNKNOWN), 401),
    ]
    for subject, failure, status in cases:
        registry.failures = {subject.name: failure}
        card = await replica.card_read(person)
        if subject is SESSION_CREATE:
            reply = await replica.http.post(
                "/api/v1/sessions", json={"card": card, "password": PASSWORD}
            )
        elif subject is ACCOUNT_REGISTER:
            reply = await replica.http.post(
                "/api/v1/registrations", json=registration(person, card)
            )
        else:
            reply = await replica.http.post("/api/v1/registrations/lookup", json={"card": card})
        assert reply.status_code == status, failure.code
        error = reply.json()["error"]
        assert error["code"] == failure.code.value
        assert error["message"] == failure.message
        if failure.reason:
            assert error["reason"] == failure.reason
        if failure.retry_after:
            assert error["retry_after"] == failure.retry_after
            assert reply.headers["retry-after"] == str(failure.retry_after)


async def test_wrong_password_is_401_invalid_credentials(replica, registry, person) -> None:
    card = await replica.card_read(person)
    reply = await replica.http.post("/api/v1/sessions", json={"card": card, "password": "nope"})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "invalid_credentials"


async def test_no_registry_is_503_unavailable(replica) -> None:
    card = await replica.card_read(new_person())
    reply = await replica.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "unavailable"


async def test_every_card_read_is_an_event_with_its_outcome(replica, registry, person) -> None:
    lookup = {"card": await replica.card_read(person)}
    await replica.http.post("/api/v1/registrations/lookup", json=lookup)
    await replica.http.post("/api/v1/registrations/lookup", json=lookup)  # replay
    registry.failures = {ACCOUNT_REGISTER.name: ServiceFailure(ErrorCode.ALREADY_REGISTERED)}
    card = await replica.card_read(person)
    await replica.http.post("/api/v1/registrations", json=registration(person, card))
    card = await replica.card_read(person)
    await replica.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
    # Not a card read: the body never validated.
    await replica.http.post("/api/v1/sessions", json={"card": {}, "password": PASSWORD})

    events = await card_read_events(replica, 4)
    assert [(e.flow, e.outcome) for e in events] == [
        ("lookup", "ok"),
        ("lookup", "nonce_invalid"),
        ("registration", "already_registered"),
        ("login", "ok"),
    ]
    assert len({e.read_id for e in events}) == 4


async def test_events_carry_no_personal_data(replica, registry, person) -> None:
    card = await replica.card_read(person)
    await replica.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
    js = replica.nc.jetstream()
    await card_read_events(replica, 1)
    raw = (await js.get_msg("READER_EVENTS", seq=1)).data.decode()
    for secret in (
        person.card.card_no,
        person.card.id_no,
        person.card.name,
        PASSWORD,
        card["nonce"],
        card["signature"],
    ):
        assert secret not in raw


async def test_unavailable_registry_is_recorded_as_such(replica) -> None:
    card = await replica.card_read(new_person())
    await replica.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
    [event] = await card_read_events(replica, 1)
    assert (event.flow, event.outcome) == ("login", "unavailable")


async def test_profile_only_read_is_refused_unless_pilot_mode(launch, registry, person) -> None:
    normal = await launch()
    card = {**await normal.card_read(person), "signature": None}
    reply = await normal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "card_signature_invalid"
    assert not registry.received[REGISTRATION_LOOKUP.name]
    # The challenge is used up all the same.
    again = await normal.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert again.json()["error"]["code"] == "nonce_invalid"

    pilot = await launch(profile_only=True)
    card = {**await pilot.card_read(person), "signature": None}
    reply = await pilot.http.post("/api/v1/registrations/lookup", json={"card": card})
    assert reply.status_code == 200, reply.text
    (forwarded,) = registry.received[REGISTRATION_LOOKUP.name]
    assert forwarded.card.signature is None


async def test_a_card_read_event_whose_ack_never_comes_does_not_delay_the_reply(
    registry, person, replica, nats_url, caplog
) -> None:
    await replica.nc.jetstream().delete_stream(READER_EVENTS.name)
    # Something takes the events' subject but never acks: JetStream's answer never comes.
    sink = await bus.connect(nats_url, name="sink", allow_reconnect=False)

    async def swallow(msg) -> None:
        pass

    await sink.subscribe(CARD_READ.name, cb=swallow)
    await sink.flush()
    try:
        card = await replica.card_read(person)
        loop = asyncio.get_running_loop()
        started = loop.time()
        reply = await replica.http.post(
            "/api/v1/sessions", json={"card": card, "password": PASSWORD}
        )
        took = loop.time() - started
        assert reply.status_code == 201
        # The ack wait (the request timeout, 2 s here) is never the caller's.
        assert took < 1.0, f"the reply took {took:.2f} s"
        await replica.gateway.events.flushed()
        assert "no ack in time" in caplog.text
    finally:
        await sink.close()
