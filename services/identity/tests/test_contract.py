"""Contract tests: every identity subject against a real nats-server, the service in-process."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from collections import Counter
from datetime import date

import pytest
from cardreg_identity.adapters.card_keys import new_card_key
from cardreg_identity.app import running_identity
from cardreg_identity.cli import import_reference, seed
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead, Household, Residence, b64url_encode
from cardreg_shared.models.identity import (
    CardVerifyReply,
    CardVerifyRequest,
    HouseholdVerifyRequest,
    ProofVerifyReply,
    ResidenceVerifyRequest,
)
from cardreg_shared.subjects import (
    CARD_VERIFY,
    HOUSEHOLD_VERIFY,
    RESIDENCE_VERIFY,
    owned_by,
)
from cardreg_testkit.people import load_wallet
from nats.micro.request import ERROR_CODE_HEADER


def nonce() -> str:
    return b64url_encode(secrets.token_bytes(32))


async def verify_card(client, card: CardRead) -> CardVerifyReply:
    return await bus.request(client, CARD_VERIFY, CardVerifyRequest(card=card), timeout=2)


async def failure(awaitable) -> ServiceFailure:
    with pytest.raises(ServiceFailure) as caught:
        await awaitable
    return caught.value


async def person_id_of(client, entry) -> str:
    return (await verify_card(client, entry.read(nonce()))).person_id


def household_request(
    person_id: str, household: Household, **changes: str
) -> HouseholdVerifyRequest:
    return HouseholdVerifyRequest(
        person_id=person_id, household=household.model_copy(update=changes)
    )


# identity.card.verify


async def test_card_verify_replies_from_the_roster(client, seeded) -> None:
    for entry in (seeded.first("citizen"), seeded.first("foreigner")):
        reply = await verify_card(client, entry.read(nonce()))
        assert isinstance(reply, CardVerifyReply)
        assert (reply.kind, reply.card_no, reply.id_no) == (
            entry.kind,
            entry.card.card_no,
            entry.card.id_no,
        )
        assert len(reply.person_id) == 32 and int(reply.person_id, 16) >= 0
    again = await verify_card(client, seeded.first("citizen").read(nonce()))
    assert (
        again.person_id
        == (await verify_card(client, seeded.first("citizen").read(nonce()))).person_id
    )


async def test_wrong_signature(client, seeded) -> None:
    entry, other = seeded.all("citizen")[:2]
    good = entry.read(nonce())
    cases = [
        good.model_copy(update={"nonce": nonce()}),  # signed another nonce
        good.model_copy(update={"signature": b64url_encode(other.sign(secrets.token_bytes(32)))}),
        good.model_copy(update={"signature": b64url_encode(bytes(64))}),
    ]
    for card in cases:
        assert (await failure(verify_card(client, card))).code is ErrorCode.CARD_SIGNATURE_INVALID


@pytest.mark.parametrize(
    "change",
    [
        {"name": "王小明"},
        {"birth_date": date(1999, 9, 9)},
        {"issued_on": date(2020, 2, 2)},
        {"id_no": "A123456789"},
        {"sex": "swap"},
    ],
)
async def test_altered_field_is_a_data_mismatch(client, seeded, change: dict) -> None:
    entry = seeded.first("citizen")
    card = entry.read(nonce())
    if change.get("sex") == "swap":
        change = {"sex": "F" if card.sex == "M" else "M"}
    altered = card.model_copy(update=change)
    caught = await failure(verify_card(client, altered))
    assert caught.code is ErrorCode.CARD_DATA_MISMATCH
    assert entry.card.id_no not in caught.message and entry.card.name not in caught.message


async def test_unknown_card(client, seeded) -> None:
    card = seeded.first("foreigner").read(nonce()).model_copy(update={"card_no": "999999999999"})
    assert (await failure(verify_card(client, card))).code is ErrorCode.CARD_UNKNOWN


async def test_replaced_card_is_refused_and_the_newer_one_works(client, seeded, tmp_path) -> None:
    entry = seeded.first("citizen")
    private, public = new_card_key()
    cards = tmp_path / "cards.csv"
    cards.write_text(
        "card_no,id_no,issued_on,public_key\n"
        f"{int(entry.card.card_no) ^ 1:012d},{entry.card.id_no},{date.today().isoformat()},{b64url_encode(public)}\n",
        encoding="utf-8",
    )
    report = import_reference(seeded.db_path, cards=cards)  # while the service runs
    assert report.problems == [] and report.cards_loaded == 1
    assert (await failure(verify_card(client, entry.read(nonce())))).code is ErrorCode.CARD_REPLACED
    newer = entry.model_copy(
        update={
            "card": entry.card.model_copy(
                update={"card_no": f"{int(entry.card.card_no) ^ 1:012d}", "issued_on": date.today()}
            ),
            "card_key": b64url_encode(private),
        }
    )
    reply = await verify_card(client, newer.read(nonce()))
    assert reply.card_no == newer.card.card_no and reply.id_no == entry.card.id_no


# identity.household.verify and identity.residence.verify


async def test_household_verified_with_harmless_differences(client, seeded) -> None:
    entry = seeded.first("citizen")
    person_id = await person_id_of(client, entry)
    household = entry.household
    width = str.maketrans("0123456789", "０１２３４５６７８９")
    variants = [
        {},
        {"township": household.township.replace("臺", "台")},
        {"township": household.township[3:]},
        {"household_no": " " + household.household_no.lower().translate(width)},
        {"neighborhood": household.neighborhood.zfill(3) + "鄰"},
        {"village": household.village[:-1] + "\u3000"},
    ]
    for changes in variants:
        reply = await bus.request(
            client, HOUSEHOLD_VERIFY, household_request(person_id, household, **changes)
        )
        assert reply == ProofVerifyReply(verified=True)


async def test_household_mismatch_and_wrong_kind(client, seeded) -> None:
    citizen, foreigner = seeded.first("citizen"), seeded.first("foreigner")
    person_id = await person_id_of(client, citizen)
    wrong_village = "龍泉里" if citizen.household.village != "龍泉里" else "山腳里"
    caught = await failure(
        bus.request(
            client,
            HOUSEHOLD_VERIFY,
            household_request(person_id, citizen.household, village=wrong_village),
        )
    )
    assert caught.code is ErrorCode.HOUSEHOLD_MISMATCH and caught.retry_after is None
    foreigner_id = await person_id_of(client, foreigner)
    caught = await failure(
        bus.request(client, HOUSEHOLD_VERIFY, household_request(foreigner_id, citizen.household))
    )
    assert caught.code is ErrorCode.PROOF_KIND_MISMATCH
    caught = await failure(
        bus.request(
            client,
            RESIDENCE_VERIFY,
            ResidenceVerifyRequest(person_id=person_id, residence=foreigner.residence),
        )
    )
    assert caught.code is ErrorCode.PROOF_KIND_MISMATCH


async def test_residence_verified_and_mismatched(client, seeded) -> None:
    entry = seeded.first("foreigner")
    person_id = await person_id_of(client, entry)
    residence = entry.residence
    ok = ResidenceVerifyRequest(
        person_id=person_id,
        residence=residence.model_copy(update={"serial_no": residence.serial_no.lower()}),
    )
    assert await bus.request(client, RESIDENCE_VERIFY, ok) == ProofVerifyReply(verified=True)
    wrong = Residence(
        issued_on=residence.issued_on, expires_on=date(2099, 1, 1), serial_no=residence.serial_no
    )
    caught = await failure(
        bus.request(
            client, RESIDENCE_VERIFY, ResidenceVerifyRequest(person_id=person_id, residence=wrong)
        )
    )
    assert caught.code is ErrorCode.RESIDENCE_MISMATCH


async def test_unknown_and_malformed_person_ids(client, seeded) -> None:
    household = seeded.first("citizen").household
    caught = await failure(
        bus.request(client, HOUSEHOLD_VERIFY, household_request("0" * 32, household))
    )
    assert caught.code is ErrorCode.NOT_FOUND
    caught = await failure(
        bus.request(client, HOUSEHOLD_VERIFY, household_request("A123456789", household))
    )
    assert caught.code is ErrorCode.INVALID_REQUEST


async def test_profile_only_read_needs_the_pilot_mode(client, seeded) -> None:
    entry = seeded.first("citizen")
    unsigned = entry.read(nonce()).model_copy(update={"signature": None})
    caught = await failure(verify_card(client, unsigned))
    assert caught.code is ErrorCode.CARD_SIGNATURE_INVALID


async def test_pilot_mode_accepts_profile_only_reads_but_still_checks_fields(
    nats_url, seeded, clock
) -> None:
    entry = seeded.first("citizen")
    unsigned = entry.read(nonce()).model_copy(update={"signature": None})
    async with running_identity(nats_url, seeded.data_dir, clock=clock.epoch, profile_only=True):
        nc = await bus.connect(nats_url, name="pilot-client", allow_reconnect=False)
        try:
            reply = await verify_card(nc, unsigned)
            assert reply.id_no == entry.card.id_no
            altered = unsigned.model_copy(update={"sex": "F" if entry.card.sex == "M" else "M"})
            caught = await failure(verify_card(nc, altered))
            assert caught.code is ErrorCode.CARD_DATA_MISMATCH
        finally:
            await nc.close()


async def test_guessing_limit_locks_escalates_and_resets(client, seeded, clock) -> None:
    entry = seeded.first("citizen")
    person_id = await person_id_of(client, entry)
    right = household_request(person_id, entry.household)
    wrong = household_request(person_id, entry.household, household_no="Z0000000")

    async def attempt(request):
        return await failure(bus.request(client, HOUSEHOLD_VERIFY, request))

    for _ in range(4):
        assert (await attempt(wrong)).code is ErrorCode.HOUSEHOLD_MISMATCH
    fifth = await attempt(wrong)
    assert fifth.code is ErrorCode.HOUSEHOLD_MISMATCH and fifth.retry_after == 900
    locked = await attempt(right)  # even the right answer is not checked while locked
    assert locked.code is ErrorCode.VERIFICATION_LOCKED and locked.retry_after == 900
    clock.advance(600)
    assert (await attempt(wrong)).retry_after == 300
    clock.advance(300)
    for _ in range(4):
        assert (await attempt(wrong)).code is ErrorCode.HOUSEHOLD_MISMATCH
    tenth = await attempt(wrong)
    assert tenth.code is ErrorCode.HOUSEHOLD_MISMATCH and tenth.retry_after == 1800  # doubled
    clock.advance(1800)
    assert await bus.request(client, HOUSEHOLD_VERIFY, right) == ProofVerifyReply(verified=True)
    for _ in range(4):  # the success reset the count
        assert (await attempt(wrong)).code is ErrorCode.HOUSEHOLD_MISMATCH
    assert (await attempt(wrong)).retry_after == 900


async def test_concurrent_guesses_cannot_exceed_the_limit(client, seeded) -> None:
    entry = seeded.first("foreigner")
    person_id = await person_id_of(client, entry)
    guesses = [
        ResidenceVerifyRequest(
            person_id=person_id,
            residence=entry.residence.model_copy(update={"serial_no": f"ZZ{i:08d}"}),
        )
        for i in range(40)
    ]
    results = await asyncio.gather(
        *(bus.request(client, RESIDENCE_VERIFY, g, timeout=5) for g in guesses),
        return_exceptions=True,
    )
    codes = Counter(r.code for r in results)
    assert codes == {ErrorCode.RESIDENCE_MISMATCH: 5, ErrorCode.VERIFICATION_LOCKED: 35}
    right = ResidenceVerifyRequest(person_id=person_id, residence=entry.residence)
    assert (
        await failure(bus.request(client, RESIDENCE_VERIFY, right))
    ).code is ErrorCode.VERIFICATION_LOCKED


# Bad messages


BAD_BODIES = [
    b"",
    b"{",
    b"\xff\xfe",
    b"[]",
    b"null",
    b"{}",
    b'{"card": 1}',
    b'{"person_id": "x"}',
    b'{"person_id": "00000000000000000000000000000000", "household": {}, "residence": {}}',
]


async def test_malformed_requests_get_invalid_request_never_a_timeout(client, seeded) -> None:
    entry = seeded.first("citizen")
    card = json.loads(entry.read(nonce()).model_dump_json())
    extra = json.dumps({"card": card, "extra": 1}).encode()
    missing = json.dumps({"card": {k: v for k, v in card.items() if k != "signature"}}).encode()
    short_nonce = json.dumps({"card": card | {"nonce": "AAAA"}}).encode()
    bad_date = json.dumps({"card": card | {"birth_date": "1990-02-30"}}).encode()
    household_extra = json.dumps(
        {"person_id": "0" * 32, "household": entry.household.model_dump() | {"x": 1}}
    ).encode()
    for subject in (CARD_VERIFY, HOUSEHOLD_VERIFY, RESIDENCE_VERIFY):
        for body in BAD_BODIES + [extra, missing, short_nonce, bad_date, household_extra]:
            msg = await client.request(subject.name, body, timeout=2)
            error = json.loads(msg.data)["error"]
            assert msg.headers[ERROR_CODE_HEADER] == "400", (subject.name, body)
            assert error["code"] == "invalid_request"
            assert entry.card.id_no not in msg.data.decode()


async def test_service_keeps_running_and_data_intact_after_bad_messages(client, seeded) -> None:
    with sqlite3.connect(seeded.db_path) as conn:
        before = conn.execute("SELECT * FROM people ORDER BY id_no").fetchall()
    await asyncio.gather(
        *(
            client.request(s.name, body, timeout=2)
            for s in owned_by("identity")
            for body in BAD_BODIES * 5
        )
    )
    entry = seeded.first("citizen")
    person_id = await person_id_of(client, entry)
    reply = await bus.request(
        client, HOUSEHOLD_VERIFY, household_request(person_id, entry.household)
    )
    assert reply.verified
    with sqlite3.connect(seeded.db_path) as conn:
        assert conn.execute("SELECT * FROM people ORDER BY id_no").fetchall() == before


async def test_people_seeded_while_running_are_served_at_once(client, seeded, tmp_path) -> None:
    wallet = tmp_path / "more.jsonl"
    seed(seeded.db_path, citizens=3, foreigners=1, wallet=wallet)
    for entry in load_wallet(wallet):
        assert (await verify_card(client, entry.read(nonce()))).id_no == entry.card.id_no


async def test_discovery_lists_the_identity_subjects(client) -> None:
    msg = await client.request("$SRV.INFO.identity", b"", timeout=2)
    info = json.loads(msg.data)
    assert info["name"] == "identity"
    assert {e["subject"] for e in info["endpoints"]} == {s.name for s in owned_by("identity")}


async def test_a_database_locked_too_long_is_unavailable_not_a_timeout(nats_url, seeded) -> None:
    entry = seeded.first("citizen")
    async with running_identity(nats_url, seeded.data_dir, busy_timeout_ms=50):
        nc = await bus.connect(nats_url, name="client", allow_reconnect=False)
        blocker = sqlite3.connect(seeded.db_path, isolation_level=None)
        try:
            person_id = await person_id_of(nc, entry)  # reads go on while another process writes
            blocker.execute("BEGIN IMMEDIATE")
            request = household_request(person_id, entry.household)
            caught = await failure(bus.request(nc, HOUSEHOLD_VERIFY, request, timeout=5))
            assert caught.code is ErrorCode.UNAVAILABLE
            blocker.execute("ROLLBACK")
            assert (await bus.request(nc, HOUSEHOLD_VERIFY, request)).verified
        finally:
            blocker.close()
            await nc.close()
