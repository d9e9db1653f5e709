"""The sqlite store on real files: migrations, roster lookups, replaced cards, atomic counting."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from cardreg_identity.adapters import schema
from cardreg_identity.adapters.reference_writer import SqliteRoster
from cardreg_identity.adapters.store import SqliteStore
from cardreg_identity.domain.guessing import GuessPolicy
from cardreg_identity.domain.people import HouseholdRecord, Person, ResidencePermit
from cardreg_identity.flows.ports import RosterCard

CITIZEN = Person(
    "citizen", "A123456789", "陳志明", date(1980, 5, 17), "M",
    household=HouseholdRecord("A1234567", "臺北市大安區", "大學里", 12),
)  # fmt: skip
FOREIGNER = Person(
    "foreigner", "A800000014", "NGUYEN VAN AN", date(1990, 1, 2), "M",
    permit=ResidencePermit(date(2024, 3, 1), date(2027, 2, 28), "YA12345678"),
)  # fmt: skip
KEY_1, KEY_2, KEY_3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def _stored(path: Path) -> sqlite3.Connection:
    conn = schema.open_migrated(path)
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_people([CITIZEN, FOREIGNER])
    return conn


def _person_id(conn: sqlite3.Connection, id_no: str) -> str:
    return conn.execute("SELECT person_id FROM people WHERE id_no = ?", (id_no,)).fetchone()[0]


def _statuses(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT card_no, status FROM cards"))


def test_migrations_are_versioned_idempotent_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "identity.db"
    conn = _stored(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = schema.open_migrated(path)
    assert schema.migrate(again) == schema.SCHEMA_VERSION
    assert again.execute("SELECT count(*) FROM people").fetchone()[0] == 2
    assert again.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    conn.close()
    again.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = schema.open_migrated(tmp_path / "identity.db")
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError):
        schema.migrate(conn)
    conn.close()


def test_reimport_keeps_person_id_and_updates_fields(tmp_path: Path) -> None:
    conn = _stored(tmp_path / "identity.db")
    before = _person_id(conn, CITIZEN.id_no)
    moved = Person(**{**{f: getattr(CITIZEN, f) for f in CITIZEN.__slots__},
                      "household": HouseholdRecord("A7654321", "臺北市信義區", "三民里", 3)})  # fmt: skip
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_people([moved])
    assert _person_id(conn, CITIZEN.id_no) == before
    assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 2
    assert (
        conn.execute("SELECT township FROM people WHERE person_id = ?", (before,)).fetchone()[0]
        == "臺北市信義區"
    )
    conn.close()


def test_newest_card_is_active_older_ones_replaced(tmp_path: Path) -> None:
    conn = _stored(tmp_path / "identity.db")
    pid = _person_id(conn, CITIZEN.id_no)
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_cards([RosterCard("000000000001", pid, date(2010, 1, 1), KEY_1)])
    assert _statuses(conn) == {"000000000001": "active"}
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_cards([RosterCard("000000000002", pid, date(2020, 1, 1), KEY_2)])
    assert _statuses(conn) == {"000000000001": "replaced", "000000000002": "active"}
    # An older card imported late does not displace the newest.
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_cards([RosterCard("000000000003", pid, date(2015, 1, 1), KEY_3)])
    assert _statuses(conn) == {
        "000000000001": "replaced", "000000000002": "active", "000000000003": "replaced",
    }  # fmt: skip
    conn.close()


async def test_roster_entry_and_proof_records(tmp_path: Path) -> None:
    path = tmp_path / "identity.db"
    conn = _stored(path)
    pid = _person_id(conn, CITIZEN.id_no)
    with schema.write_transaction(conn):
        SqliteRoster(conn).upsert_cards([RosterCard("000000000001", pid, date(2010, 1, 1), KEY_1)])
    conn.close()
    store = await SqliteStore.open(path, GuessPolicy())
    try:
        entry = await store.roster_entry("000000000001")
        assert entry is not None
        assert (entry.person_id, entry.kind, entry.id_no, entry.name) == (
            pid,
            "citizen",
            CITIZEN.id_no,
            CITIZEN.name,
        )
        assert (entry.birth_date, entry.issued_on, entry.public_key, entry.status) == (
            CITIZEN.birth_date, date(2010, 1, 1), KEY_1, "active",
        )  # fmt: skip
        assert await store.roster_entry("999999999999") is None
        record = await store.proof_record(pid)
        assert (
            record is not None and record.household == CITIZEN.household and record.permit is None
        )
        assert await store.proof_record("0" * 32) is None
    finally:
        await store.close()


async def test_concurrent_failures_never_pass_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "identity.db"
    conn = _stored(path)
    pid = _person_id(conn, FOREIGNER.id_no)
    conn.close()
    stores = [await SqliteStore.open(path, GuessPolicy()) for _ in range(3)]  # like 3 replicas
    try:
        results = await asyncio.gather(
            *(stores[i % 3].record_failure(pid, 1000.0) for i in range(30))
        )
        accepted = [r.locked_until for r in results if r.accepted]
        assert sorted(accepted, key=str) == [1900.0, None, None, None, None]
        assert {r.locked_until for r in results if not r.accepted} == {1900.0}
        refused = await stores[0].record_success(pid, 1000.0)
        assert not refused.accepted and refused.locked_until == 1900.0
        reset = await stores[0].record_success(pid, 1900.0)
        assert reset.accepted
        record = await stores[1].proof_record(pid)
        assert record is not None and record.locked_until is None
    finally:
        for store in stores:
            await store.close()
