"""The identity store's behaviour on each backend (identity.db and PostgreSQL): what the
roster writer stored reads back the same, the newest card is the active one, and guesses
counted by several replicas at once never pass the limit."""

from __future__ import annotations

import asyncio
from datetime import date

from cardreg_identity.cli import roster
from cardreg_identity.flows.ports import RosterCard

from .conftest import open_store, query
from .test_store import CITIZEN, FOREIGNER, KEY_1, KEY_2, KEY_3


def _stored(database) -> dict[str, str]:
    with roster(database) as writer, writer.transaction():
        writer.upsert_people([CITIZEN, FOREIGNER])
        holders = writer.holders_by_id_no([CITIZEN.id_no, FOREIGNER.id_no])
    return {id_no: person_id for id_no, (person_id, _) in holders.items()}


async def test_roster_entry_and_proof_records(database) -> None:
    pid = _stored(database)[CITIZEN.id_no]
    with roster(database) as writer, writer.transaction():
        writer.upsert_cards([RosterCard("000000000001", pid, date(2010, 1, 1), KEY_1)])
    store = await open_store(database)
    try:
        entry = await store.roster_entry("000000000001")
        assert entry is not None
        assert (entry.person_id, entry.kind, entry.id_no, entry.name, entry.sex) == (
            pid, "citizen", CITIZEN.id_no, CITIZEN.name, CITIZEN.sex,
        )  # fmt: skip
        assert (entry.birth_date, entry.issued_on, entry.public_key, entry.status) == (
            CITIZEN.birth_date, date(2010, 1, 1), KEY_1, "active",
        )  # fmt: skip
        assert await store.roster_entry("999999999999") is None
        record = await store.proof_record(pid)
        assert record is not None and record.household == CITIZEN.household
        assert record.permit is None and record.locked_until is None
        foreigner = await store.proof_record(_stored(database)[FOREIGNER.id_no])
        assert foreigner is not None and foreigner.permit == FOREIGNER.permit
        assert await store.proof_record("0" * 32) is None
    finally:
        await store.close()


def test_newest_card_is_active_and_a_rewrite_keeps_the_person(database) -> None:
    pid = _stored(database)[CITIZEN.id_no]
    for card_no, issued, key in (
        ("000000000001", date(2010, 1, 1), KEY_1),
        ("000000000002", date(2020, 1, 1), KEY_2),
        ("000000000003", date(2015, 1, 1), KEY_3),  # older, imported late
    ):
        with roster(database) as writer, writer.transaction():
            writer.upsert_cards([RosterCard(card_no, pid, issued, key)])
    assert query(database, "SELECT card_no, status FROM cards ORDER BY card_no") == [
        ("000000000001", "replaced"), ("000000000002", "active"), ("000000000003", "replaced"),
    ]  # fmt: skip
    assert _stored(database)[CITIZEN.id_no] == pid
    with roster(database) as writer, writer.transaction():
        assert writer.taken_id_nos([CITIZEN.id_no, "Z999999999"]) == {CITIZEN.id_no}
        assert writer.card_owners(["000000000002", "000000000009"]) == {"000000000002": pid}


async def test_guesses_from_three_replicas_never_pass_the_limit(database) -> None:
    pid = _stored(database)[FOREIGNER.id_no]
    stores = [await open_store(database) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(stores[i % 3].record_failure(pid, 1000.0) for i in range(30))
        )
        accepted = [r.locked_until for r in results if r.accepted]
        assert sorted(accepted, key=str) == [1900.0, None, None, None, None]
        assert {r.locked_until for r in results if not r.accepted} == {1900.0}
        refused = await stores[0].record_success(pid, 1000.0)
        assert not refused.accepted and refused.locked_until == 1900.0
        assert (await stores[2].record_success(pid, 1900.0)).accepted
        record = await stores[1].proof_record(pid)
        assert record is not None and record.locked_until is None
        unknown = await stores[0].record_failure("0" * 32, 1000.0)
        assert (unknown.accepted, unknown.locked_until) == (False, None)
    finally:
        for store in stores:
            await store.close()
