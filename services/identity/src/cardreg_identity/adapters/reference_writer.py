"""The roster writer of `cardreg seed` and `cardreg import` (`flows.ports.RosterWriter`) on
identity.db, with plain sqlite3: bulk writes go through executemany in big batches, which
aiosqlite's thread hop per statement would only slow down. The service may run on the same
file meanwhile (WAL; `busy_timeout` makes writers wait their turn).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path

from ..domain.people import InsuredUnit, Person
from ..flows.ports import RosterCard
from .schema import DEFAULT_BUSY_TIMEOUT_MS, open_migrated, write_transaction

_PERSON_COLUMNS = (
    "person_id, kind, id_no, name, birth_date, sex, household_no, township, village, "
    "neighborhood, permit_issued_on, permit_expires_on, permit_serial_no, passport_no, "
    "driving_licence_no, insured_unit"
)
_INSERT_PERSON = f"INSERT INTO people ({_PERSON_COLUMNS}) VALUES ({', '.join('?' * 16)})"
_UPSERT_PERSON = (
    _INSERT_PERSON
    + """
ON CONFLICT (id_no) DO UPDATE SET
    kind = excluded.kind, name = excluded.name, birth_date = excluded.birth_date,
    sex = excluded.sex, household_no = excluded.household_no, township = excluded.township,
    village = excluded.village, neighborhood = excluded.neighborhood,
    permit_issued_on = excluded.permit_issued_on, permit_expires_on = excluded.permit_expires_on,
    permit_serial_no = excluded.permit_serial_no, passport_no = excluded.passport_no,
    driving_licence_no = excluded.driving_licence_no, insured_unit = excluded.insured_unit
"""
)
_INSERT_CARD = (
    "INSERT INTO cards (card_no, person_id, issued_on, public_key, status) "
    "VALUES (?, ?, ?, ?, 'active')"
)
_UPSERT_CARD = (
    _INSERT_CARD + " ON CONFLICT (card_no) DO UPDATE SET issued_on = excluded.issued_on,"
    " public_key = excluded.public_key"
)
# The newest card of a person is active; ties on the issue date go to the higher card number.
_REFRESH_STATUS = """
UPDATE cards SET status = new_status FROM (
    SELECT card_no AS newest_no, CASE WHEN row_number() OVER (
        ORDER BY issued_on DESC, card_no DESC
    ) = 1 THEN 'active' ELSE 'replaced' END AS new_status
    FROM cards WHERE person_id = ?
) WHERE card_no = newest_no AND status <> new_status
"""


def new_person_id() -> str:
    """Opaque and random (128 bits): says nothing about the person."""
    return secrets.token_hex(16)


def _person_row(person_id: str, person: Person) -> tuple[object, ...]:
    household, permit = person.household, person.permit
    return (
        person_id,
        person.kind,
        person.id_no,
        person.name,
        person.birth_date.isoformat(),
        person.sex,
        household.household_no if household else None,
        household.township if household else None,
        household.village if household else None,
        household.neighborhood if household else None,
        permit.issued_on.isoformat() if permit else None,
        permit.expires_on.isoformat() if permit else None,
        permit.serial_no if permit else None,
        person.passport_no,
        person.driving_licence_no,
        person.insured_unit,
    )


def _card_row(card: RosterCard) -> tuple[object, ...]:
    return (card.card_no, card.person_id, card.issued_on.isoformat(), card.public_key)


class SqliteRoster:
    """`RosterWriter` on one sqlite3 connection (autocommit; transactions are explicit)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    @contextmanager
    def open(
        cls, path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    ) -> Iterator[SqliteRoster]:
        conn = open_migrated(path, busy_timeout_ms=busy_timeout_ms)
        try:
            yield cls(conn)
        finally:
            conn.close()

    def transaction(self) -> AbstractContextManager[object]:
        return write_transaction(self._conn)

    def taken_id_nos(self, id_nos: Iterable[str]) -> set[str]:
        query = "SELECT id_no FROM people WHERE id_no IN (SELECT value FROM json_each(?))"
        return {row[0] for row in self._in_list(query, id_nos)}

    def taken_card_nos(self, card_nos: Iterable[str]) -> set[str]:
        query = "SELECT card_no FROM cards WHERE card_no IN (SELECT value FROM json_each(?))"
        return {row[0] for row in self._in_list(query, card_nos)}

    def add_new(self, people: Sequence[tuple[Person, str, date, bytes]]) -> None:
        person_ids = [new_person_id() for _ in people]
        self._conn.executemany(
            _INSERT_PERSON, [_person_row(pid, p[0]) for pid, p in zip(person_ids, people)]
        )
        self._conn.executemany(
            _INSERT_CARD,
            [
                _card_row(RosterCard(card_no, pid, issued_on, key))
                for pid, (_, card_no, issued_on, key) in zip(person_ids, people)
            ],
        )

    def upsert_units(self, units: Iterable[InsuredUnit]) -> None:
        self._conn.executemany(
            "INSERT INTO insured_units (unit_id, name) VALUES (?, ?) "
            "ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name",
            ((unit.unit_id, unit.name) for unit in units),
        )

    def known_units(self, unit_ids: Iterable[str]) -> set[str]:
        query = (
            "SELECT unit_id FROM insured_units WHERE unit_id IN (SELECT value FROM json_each(?))"
        )
        return {row[0] for row in self._in_list(query, unit_ids)}

    def upsert_people(self, people: Iterable[Person]) -> None:
        self._conn.executemany(_UPSERT_PERSON, (_person_row(new_person_id(), p) for p in people))

    def holders_by_id_no(self, id_nos: Iterable[str]) -> dict[str, tuple[str, date]]:
        query = (
            "SELECT id_no, person_id, birth_date FROM people "
            "WHERE id_no IN (SELECT value FROM json_each(?))"
        )
        return {
            id_no: (person_id, date.fromisoformat(birth))
            for id_no, person_id, birth in self._in_list(query, id_nos)
        }

    def card_owners(self, card_nos: Iterable[str]) -> dict[str, str]:
        query = (
            "SELECT card_no, person_id FROM cards WHERE card_no IN (SELECT value FROM json_each(?))"
        )
        return dict(self._in_list(query, card_nos))

    def upsert_cards(self, cards: Sequence[RosterCard]) -> None:
        self._conn.executemany(_UPSERT_CARD, [_card_row(card) for card in cards])
        holders = {card.person_id for card in cards}
        self._conn.executemany(_REFRESH_STATUS, ((person_id,) for person_id in holders))

    def _in_list(self, query: str, values: Iterable[str]) -> list[tuple]:
        return self._conn.execute(query, (json.dumps(list(values)),)).fetchall()
