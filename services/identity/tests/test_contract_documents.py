"""identity.person.find / document.verify / insurance.verify against a real nats-server, on a
seeded roster whose wallet says which documents and insured unit each person has; on each
backend (identity.db and PostgreSQL)."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest
from cardreg_identity.app import running_identity
from cardreg_identity.cli import seed
from cardreg_shared import bus
from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Document
from cardreg_shared.models.identity import (
    DocumentVerifyRequest,
    InsuranceVerifyRequest,
    PersonClaims,
    PersonClaimsRequest,
    PersonFindReply,
    PersonFindRequest,
    ProofVerifyReply,
)
from cardreg_shared.subjects import DOCUMENT_VERIFY, INSURANCE_VERIFY, PERSON_CLAIMS, PERSON_FIND
from cardreg_testkit.people import load_wallet
from nats.micro.request import ERROR_CODE_HEADER

from .conftest import query


@pytest.fixture
def many(tmp_path: Path, database: Path | str):
    """Enough people for every document type, children and employees among them."""
    wallet = tmp_path / "wallet.jsonl"
    seed(
        database,
        citizens=80,
        foreigners=10,
        employers=3,
        wallet=wallet,
        rng=random.Random(11),
    )
    return database, list(load_wallet(wallet))


@pytest.fixture
async def nc(nats_url: str, tmp_path: Path, many, clock):
    database = many[0]
    on_postgres = {"database_url": database} if isinstance(database, str) else {}
    async with running_identity(nats_url, tmp_path / "data", clock=clock.epoch, **on_postgres):
        conn = await bus.connect(nats_url, name="client", allow_reconnect=False)
        yield conn
        await conn.close()


async def find(nc, id_no: str) -> PersonFindReply:
    return await bus.request(nc, PERSON_FIND, PersonFindRequest(id_no=id_no), timeout=2)


async def verify(nc, person_id: str, kind: str, number: str) -> ProofVerifyReply:
    request = DocumentVerifyRequest(
        person_id=person_id, document=Document(type=kind, number=number)
    )
    return await bus.request(nc, DOCUMENT_VERIFY, request, timeout=2)


async def insured(nc, person_id: str, unit_id: str) -> ProofVerifyReply:
    request = InsuranceVerifyRequest(person_id=person_id, unit_id=unit_id)
    return await bus.request(nc, INSURANCE_VERIFY, request, timeout=2)


async def failure(awaitable) -> ServiceFailure:
    with pytest.raises(ServiceFailure) as caught:
        await awaitable
    return caught.value


async def test_a_person_is_found_by_id_number(nc, many) -> None:
    _, wallet = many
    for entry in (wallet[0], next(e for e in wallet if e.kind == "foreigner")):
        reply = await find(nc, entry.card.id_no)
        assert (reply.kind, reply.id_no) == (entry.kind, entry.card.id_no)
        assert reply.under_14 == ("household_register" in entry.documents)
    unknown = await failure(find(nc, "A123456789"))
    assert unknown.code == ErrorCode.NOT_FOUND


async def test_a_persons_claims_are_the_registers_name_and_id_number(nc, many) -> None:
    _, wallet = many
    for entry in (wallet[0], next(e for e in wallet if e.kind == "foreigner")):
        person_id = (await find(nc, entry.card.id_no)).person_id
        request = PersonClaimsRequest(person_id=person_id)
        reply: PersonClaims = await bus.request(nc, PERSON_CLAIMS, request, timeout=2)
        assert (reply.name, reply.id_no) == (entry.card.name, entry.card.id_no)
    missing = bus.request(nc, PERSON_CLAIMS, PersonClaimsRequest(person_id="0" * 32), timeout=2)
    assert (await failure(missing)).code == ErrorCode.NOT_FOUND


async def test_every_document_the_wallet_names_belongs_to_its_person(nc, many) -> None:
    _, wallet = many
    seen: set[str] = set()
    for entry in wallet:
        person_id = (await find(nc, entry.card.id_no)).person_id
        for kind, number in entry.documents.items():
            assert (await verify(nc, person_id, kind, number)).verified
            seen.add(kind)
    assert seen == {
        "national_id",
        "household_register",
        "passport",
        "driving_licence",
        "residence_permit",
    }


async def test_numbers_are_compared_as_typed_from_the_document(nc, many) -> None:
    _, wallet = many
    entry = next(e for e in wallet if "national_id" in e.documents)
    person_id = (await find(nc, entry.card.id_no)).person_id
    # Full-width, lower case, with spaces: NFKC and upper case make it the same number.
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in entry.card.id_no.lower())
    typed = f" {full_width[:4]} {full_width[4:]} "
    assert (await verify(nc, person_id, "national_id", typed)).verified


async def test_a_document_of_someone_else_or_of_another_type_is_refused(nc, many) -> None:
    _, wallet = many
    adult = next(e for e in wallet if "national_id" in e.documents)
    child = next(e for e in wallet if "household_register" in e.documents)
    other = next(e for e in wallet if e is not adult and "national_id" in e.documents)
    adult_id = (await find(nc, adult.card.id_no)).person_id
    child_id = (await find(nc, child.card.id_no)).person_id
    cases = [
        (adult_id, "national_id", other.card.id_no),
        (adult_id, "passport", "300000000"),
        (adult_id, "residence_permit", adult.card.id_no),
        # A child has no ID card yet: only the household register serves.
        (child_id, "national_id", child.card.id_no),
    ]
    for person_id, kind, number in cases:
        refused = await failure(verify(nc, person_id, kind, number))
        assert refused.code == ErrorCode.DOCUMENT_MISMATCH, (kind, refused)
    assert (await verify(nc, child_id, "household_register", child.household.household_no)).verified


async def test_wrong_document_numbers_are_limited_like_household_guesses(nc, many) -> None:
    _, wallet = many
    entry = next(e for e in wallet if "national_id" in e.documents)
    person_id = (await find(nc, entry.card.id_no)).person_id
    codes = [(await failure(verify(nc, person_id, "passport", f"3{n:08d}"))).code for n in range(5)]
    assert codes == [ErrorCode.DOCUMENT_MISMATCH] * 5
    locked = await failure(verify(nc, person_id, "national_id", entry.card.id_no))
    assert locked.code == ErrorCode.VERIFICATION_LOCKED and locked.retry_after


async def test_insurance_through_the_persons_own_unit_only(nc, many) -> None:
    database, wallet = many
    employee = next(e for e in wallet if e.insured_unit)
    uninsured = next(e for e in wallet if e.insured_unit is None)
    units = [row[0] for row in query(database, "SELECT unit_id FROM insured_units")]
    assert len(units) == 3 and employee.insured_unit in units
    other_unit = next(u for u in units if u != employee.insured_unit)
    employee_id = (await find(nc, employee.card.id_no)).person_id
    assert (await insured(nc, employee_id, employee.insured_unit)).verified
    refused = await failure(insured(nc, employee_id, other_unit))
    assert refused.code == ErrorCode.INSURANCE_MISMATCH
    nobody = await failure(insured(nc, (await find(nc, uninsured.card.id_no)).person_id, units[0]))
    assert nobody.code == ErrorCode.INSURANCE_MISMATCH
    # Failures here are not guesses: the right unit still answers.
    assert (await insured(nc, employee_id, employee.insured_unit)).verified


@pytest.mark.parametrize("subject", [PERSON_FIND, DOCUMENT_VERIFY, INSURANCE_VERIFY])
async def test_malformed_requests_are_invalid_request(nc, subject) -> None:
    bodies = [
        b"{",
        b"{}",
        json.dumps({"id_no": "not-an-id"}).encode(),
        json.dumps({"person_id": "x" * 32, "document": {"type": "visa", "number": "1"}}).encode(),
        json.dumps({"person_id": "nope", "unit_id": "12345678"}).encode(),
    ]
    for body in bodies:
        msg = await nc.request(subject.name, body, timeout=2)
        assert msg.headers[ERROR_CODE_HEADER] == "400", body
        assert json.loads(msg.data)["error"]["code"] == "invalid_request"


async def test_unknown_person_ids_are_not_found_and_bad_ones_invalid(nc) -> None:
    missing = "0" * 32
    assert (await failure(verify(nc, missing, "passport", "312345678"))).code == (
        ErrorCode.NOT_FOUND
    )
    assert (await failure(insured(nc, missing, "123456789"))).code == ErrorCode.NOT_FOUND
    assert (await failure(insured(nc, "NOT-AN-ID", "123456789"))).code == (
        ErrorCode.INVALID_REQUEST
    )


def test_the_wallet_line_carries_documents_and_unit(many) -> None:
    _, wallet = many
    today = date.today()
    assert all(entry.documents for entry in wallet)
    assert any(entry.insured_unit for entry in wallet)
    for entry in wallet:
        if entry.kind == "foreigner":
            assert entry.documents["residence_permit"] == entry.card.id_no
        birth = entry.card.birth_date
        if "household_register" in entry.documents:
            assert (today.year - birth.year) <= 14
