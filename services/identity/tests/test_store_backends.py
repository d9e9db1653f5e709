"""The identity store's behaviour on each backend (identity.db and PostgreSQL): what the
roster writer stored reads back the same (documents and insured units too), the newest card
is the active one, and guesses (household data and document numbers alike) counted by several
replicas at once never pass the limit."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from cardreg_identity.cli import roster
from cardreg_identity.domain.people import InsuredUnit
from cardreg_identity.flows.document_verify import DocumentVerification
from cardreg_identity.flows.insurance_verify import InsuranceVerification
from cardreg_identity.flows.ports import RosterCard
from cardreg_identity.flows.proof_check import ProofCheck
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Document
from cardreg_shared.models.identity import DocumentVerifyRequest, InsuranceVerifyRequest

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


UNIT, OTHER_UNIT = "123456789", "987654321"
EMPLOYEE = replace(CITIZEN, passport_no="312345678", driving_licence_no=CITIZEN.id_no,
                   insured_unit=UNIT)  # fmt: skip
NOW = datetime(2026, 6, 1, tzinfo=UTC).timestamp()


def _stored_with_documents(database) -> dict[str, str]:
    with roster(database) as writer, writer.transaction():
        writer.upsert_units([InsuredUnit(UNIT, "大安企業社"), InsuredUnit(OTHER_UNIT, "長春診所")])
        writer.upsert_units([InsuredUnit(OTHER_UNIT, "長春聯合診所")])  # a rename
        assert writer.known_units([UNIT, "555555555"]) == {UNIT}
        writer.upsert_people([EMPLOYEE, FOREIGNER])
        holders = writer.holders_by_id_no([CITIZEN.id_no, FOREIGNER.id_no])
    return {id_no: person_id for id_no, (person_id, _) in holders.items()}


async def test_documents_and_the_insured_unit_read_back(database) -> None:
    pids = _stored_with_documents(database)
    assert query(database, "SELECT unit_id, name FROM insured_units ORDER BY unit_id") == [
        (UNIT, "大安企業社"), (OTHER_UNIT, "長春聯合診所"),
    ]  # fmt: skip
    store = await open_store(database)
    try:
        found = await store.person_by_id_no(CITIZEN.id_no)
        assert found is not None and found.person_id == pids[CITIZEN.id_no]
        assert found.person == EMPLOYEE and found.household == CITIZEN.household
        record = await store.proof_record(pids[FOREIGNER.id_no])
        assert record is not None and record.person == FOREIGNER
        assert await store.person_by_id_no("Z999999999") is None
        insured = InsuranceVerification(store)
        request = InsuranceVerifyRequest(person_id=pids[CITIZEN.id_no], unit_id=UNIT)
        assert (await insured(request)).verified
        for person_id, unit in ((pids[CITIZEN.id_no], OTHER_UNIT), (pids[FOREIGNER.id_no], UNIT)):
            with pytest.raises(ServiceFailure) as refused:
                await insured(InsuranceVerifyRequest(person_id=person_id, unit_id=unit))
            assert refused.value.code == ErrorCode.INSURANCE_MISMATCH
    finally:
        await store.close()


async def test_wrong_document_numbers_from_three_replicas_never_pass_the_limit(database) -> None:
    pid = _stored_with_documents(database)[CITIZEN.id_no]
    stores = [await open_store(database) for _ in range(3)]
    checks = [DocumentVerification(ProofCheck(store, lambda: NOW), lambda: NOW) for store in stores]

    async def attempt(n: int) -> ErrorCode | None:
        number = EMPLOYEE.passport_no if n < 0 else f"3{n:08d}"
        request = DocumentVerifyRequest(
            person_id=pid, document=Document(type="passport", number=number)
        )
        try:
            assert (await checks[n % 3](request)).verified
        except ServiceFailure as failure:
            return failure.code
        return None

    try:
        assert await attempt(-3) is None  # the right passport
        codes = await asyncio.gather(*(attempt(n) for n in range(30)))
        assert codes.count(ErrorCode.DOCUMENT_MISMATCH) == 5
        assert codes.count(ErrorCode.VERIFICATION_LOCKED) == 25
        counted = "SELECT failed_guesses FROM people WHERE insured_unit IS NOT NULL"
        assert query(database, counted) == [(5,)]
        assert await attempt(-3) == ErrorCode.VERIFICATION_LOCKED  # even the right one, now
    finally:
        for store in stores:
            await store.close()
