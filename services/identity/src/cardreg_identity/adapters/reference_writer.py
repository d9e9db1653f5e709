"""Bulk writes of people and cards for `cardreg seed` and `cardreg import` (plain sqlite3).

Callers wrap these in `schema.write_transaction`; statements run through executemany in big
batches. People are keyed by ID number: re-importing a person keeps their opaque person_id
and their guessing state. A person's newest card (latest issue date) is active, the rest
are replaced.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from datetime import date

from ..domain.people import Person

_PERSON_COLUMNS = (
    "person_id, kind, id_no, name, birth_date, sex, household_no, township, village, "
    "neighborhood, permit_issued_on, permit_expires_on, permit_serial_no"
)
_INSERT_PERSON = f"INSERT INTO people ({_PERSON_COLUMNS}) VALUES ({', '.join('?' * 13)})"
_UPSERT_PERSON = (
    _INSERT_PERSON
    + """
ON CONFLICT (id_no) DO UPDATE SET
    kind = excluded.kind, name = excluded.name, birth_date = excluded.birth_date,
    sex = excluded.sex, household_no = excluded.household_no, township = excluded.township,
    village = excluded.village, neighborhood = excluded.neighborhood,
    permit_issued_on = excluded.permit_issued_on, permit_expires_on = excluded.permit_expires_on,
    permit_serial_no = excluded.permit_serial_no
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
UPDATE cards SET status = CASE WHEN card_no = (
    SELECT newest.card_no FROM cards AS newest WHERE newest.person_id = cards.person_id
    ORDER BY newest.issued_on DESC, newest.card_no DESC LIMIT 1
) THEN 'active' ELSE 'replaced' END
WHERE person_id = ?
"""


def new_person_id() -> str:
    """Opaque and random (128 bits): says nothing about the person."""
    return secrets.token_hex(16)


def person_row(person_id: str, person: Person) -> tuple:
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
    )


def card_row(card_no: str, person_id: str, issued_on: date, public_key: bytes) -> tuple:
    return (card_no, person_id, issued_on.isoformat(), public_key)


def insert_new(conn: sqlite3.Connection, people: list[tuple], cards: list[tuple]) -> None:
    """People and cards known to be new (seeding): plain inserts, every card active."""
    conn.executemany(_INSERT_PERSON, people)
    conn.executemany(_INSERT_CARD, cards)


def upsert_people(conn: sqlite3.Connection, people: Iterable[Person]) -> None:
    conn.executemany(_UPSERT_PERSON, (person_row(new_person_id(), p) for p in people))


def upsert_cards(conn: sqlite3.Connection, cards: list[tuple]) -> None:
    """Insert or update cards, then settle which card of each holder is active."""
    conn.executemany(_UPSERT_CARD, cards)
    holders = {row[1] for row in cards}
    conn.executemany(_REFRESH_STATUS, ((person_id,) for person_id in holders))


def _in_list(conn: sqlite3.Connection, query: str, values: Iterable[str]) -> list[tuple]:
    return conn.execute(query, (json.dumps(list(values)),)).fetchall()


def taken_id_nos(conn: sqlite3.Connection, id_nos: Iterable[str]) -> set[str]:
    query = "SELECT id_no FROM people WHERE id_no IN (SELECT value FROM json_each(?))"
    return {row[0] for row in _in_list(conn, query, id_nos)}


def taken_card_nos(conn: sqlite3.Connection, card_nos: Iterable[str]) -> set[str]:
    query = "SELECT card_no FROM cards WHERE card_no IN (SELECT value FROM json_each(?))"
    return {row[0] for row in _in_list(conn, query, card_nos)}


def holders_by_id_no(
    conn: sqlite3.Connection, id_nos: Iterable[str]
) -> dict[str, tuple[str, date]]:
    """id_no -> (person_id, birth_date) for the stored people among `id_nos`."""
    query = (
        "SELECT id_no, person_id, birth_date FROM people "
        "WHERE id_no IN (SELECT value FROM json_each(?))"
    )
    return {
        id_no: (person_id, date.fromisoformat(birth))
        for id_no, person_id, birth in _in_list(conn, query, id_nos)
    }


def card_owners(conn: sqlite3.Connection, card_nos: Iterable[str]) -> dict[str, str]:
    """card_no -> person_id for the stored cards among `card_nos`."""
    query = "SELECT card_no, person_id FROM cards WHERE card_no IN (SELECT value FROM json_each(?))"
    return dict(_in_list(conn, query, card_nos))
