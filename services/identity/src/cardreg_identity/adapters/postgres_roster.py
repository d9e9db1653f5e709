"""The roster writer of `cardreg seed` and `cardreg import` on PostgreSQL: the twin of
reference_writer.py, with a blocking psycopg connection. Rows go in with `COPY`: people and
cards not stored yet (every row of a first import) straight into their tables; rows that
update stored ones into a temporary table first, then one `INSERT … SELECT … ON CONFLICT`
(insured units always that way). A transaction takes an
advisory lock first: roster writers (two seeds, a seed and an import) take turns as they do
on sqlite's write lock, so a number found free inside one is still free at its insert. The
service reads on meanwhile.

An import in slices (`cardreg import --writers N`) is the one exception: its loaders hold the
lock shared, so they write side by side and exclude every other writer; it also holds
`IMPORT_LOCK` for its whole run, so two imports do not interleave. Their slices cannot meet
on a person (a slice is a set of ID numbers), only on a card number listed for people in two
slices: that COPY fails on the unique card number, and the batch is written again
(`CardNumberTaken`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date

import psycopg
from cardreg_shared.postgres import migrate_blocking, service_url

from ..domain.people import InsuredUnit, Person
from ..flows.ports import CardNumberTaken, RosterCard
from .postgres_schema import MIGRATIONS
from .reference_writer import new_person_id

_PERSON_COLUMNS = (
    "person_id, kind, id_no, name, birth_date, sex, household_no, township, village, "
    "neighborhood, permit_issued_on, permit_expires_on, permit_serial_no, passport_no, "
    "driving_licence_no, insured_unit"
)
_CARD_COLUMNS = "card_no, person_id, issued_on, public_key"
_WRITERS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('cardreg:identity:roster'))"
_SLICE_LOCK = "SELECT pg_advisory_xact_lock_shared(hashtext('cardreg:identity:roster'))"
IMPORT_LOCK = "SELECT pg_advisory_lock(hashtext('cardreg:identity:import'))"

_STAGE_PEOPLE = """
CREATE TEMP TABLE IF NOT EXISTS people_in (
    ord bigint, person_id text, kind text, id_no text, name text, birth_date date, sex text,
    household_no text, township text, village text, neighborhood integer,
    permit_issued_on date, permit_expires_on date, permit_serial_no text, passport_no text,
    driving_licence_no text, insured_unit text
) ON COMMIT DELETE ROWS
"""
# The last row of a batch for an ID number wins, as it would writing row by row.
_UPSERT_PEOPLE = f"""
INSERT INTO people ({_PERSON_COLUMNS})
SELECT DISTINCT ON (id_no) {_PERSON_COLUMNS} FROM people_in ORDER BY id_no, ord DESC
ON CONFLICT (id_no) DO UPDATE SET
    kind = excluded.kind, name = excluded.name, birth_date = excluded.birth_date,
    sex = excluded.sex, household_no = excluded.household_no, township = excluded.township,
    village = excluded.village, neighborhood = excluded.neighborhood,
    permit_issued_on = excluded.permit_issued_on, permit_expires_on = excluded.permit_expires_on,
    permit_serial_no = excluded.permit_serial_no, passport_no = excluded.passport_no,
    driving_licence_no = excluded.driving_licence_no, insured_unit = excluded.insured_unit
"""
_STAGE_UNITS = """
CREATE TEMP TABLE IF NOT EXISTS units_in (ord bigint, unit_id text, name text)
ON COMMIT DELETE ROWS
"""
_UPSERT_UNITS = """
INSERT INTO insured_units (unit_id, name)
SELECT DISTINCT ON (unit_id) unit_id, name FROM units_in ORDER BY unit_id, ord DESC
ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name
"""
_STAGE_CARDS = """
CREATE TEMP TABLE IF NOT EXISTS cards_in (
    ord bigint, card_no text, person_id text, issued_on date, public_key bytea
) ON COMMIT DELETE ROWS
"""
_UPSERT_CARDS = f"""
INSERT INTO cards ({_CARD_COLUMNS}, status)
SELECT DISTINCT ON (card_no) {_CARD_COLUMNS}, 'active' FROM cards_in ORDER BY card_no, ord DESC
ON CONFLICT (card_no) DO UPDATE SET issued_on = excluded.issued_on,
    public_key = excluded.public_key
"""
# The newest card of a person is active; ties on the issue date go to the higher card number.
# First the cards whose status must change (a person's one new card is active already, so on
# a first import there are none), then an update of just those by card number: one UPDATE
# joining the window over the batch's people was planned as a hash join over every card,
# which made each batch slower than the one before.
_STATUS_CHANGES = """
SELECT card_no, status FROM (
    SELECT card_no, c.status AS was, CASE WHEN row_number() OVER (
        PARTITION BY person_id ORDER BY issued_on DESC, card_no DESC
    ) = 1 THEN 'active' ELSE 'replaced' END AS status
    FROM cards AS c WHERE person_id = ANY(%s)
) AS newest WHERE was <> status
"""
_SET_STATUS = """
UPDATE cards SET status = change.status
FROM unnest(%s::text[], %s::text[]) AS change (card_no, status)
WHERE cards.card_no = change.card_no
"""


def _person_row(person_id: str, person: Person) -> tuple[object, ...]:
    household, permit = person.household, person.permit
    return (
        person_id,
        person.kind,
        person.id_no,
        person.name,
        person.birth_date,
        person.sex,
        household.household_no if household else None,
        household.township if household else None,
        household.village if household else None,
        household.neighborhood if household else None,
        permit.issued_on if permit else None,
        permit.expires_on if permit else None,
        permit.serial_no if permit else None,
        person.passport_no,
        person.driving_licence_no,
        person.insured_unit,
    )


def _card_row(card: RosterCard) -> tuple[object, ...]:
    return (card.card_no, card.person_id, card.issued_on, card.public_key)


class PgRoster:
    """`RosterWriter` on one blocking connection (autocommit; transactions are explicit)."""

    def __init__(self, conn: psycopg.Connection, *, slice_of_import: bool = False) -> None:
        self._conn = conn
        self._lock = _SLICE_LOCK if slice_of_import else _WRITERS_LOCK
        self._free_card_nos: set[str] = set()

    @classmethod
    @contextmanager
    def open(cls, url: str, *, slice_of_import: bool = False) -> Iterator[PgRoster]:
        with psycopg.connect(service_url(url, "identity"), autocommit=True) as conn:
            migrate_blocking(conn, MIGRATIONS, name="identity")
            yield cls(conn, slice_of_import=slice_of_import)

    def transaction(self) -> AbstractContextManager[object]:
        return self._locked()

    def hold_import_lock(self) -> None:
        """Until this connection closes: one import at a time (its slices hold the writers'
        lock shared, so two imports would otherwise write side by side)."""
        self._conn.execute(IMPORT_LOCK)

    @contextmanager
    def _locked(self) -> Iterator[object]:
        self._free_card_nos = set()  # found free in an earlier transaction: not any more
        with self._conn.transaction():
            self._conn.execute(self._lock)
            yield self._conn

    def taken_id_nos(self, id_nos: Iterable[str]) -> set[str]:
        query = "SELECT id_no FROM people WHERE id_no = ANY(%s)"
        return {row[0] for row in self._any(query, id_nos)}

    def taken_card_nos(self, card_nos: Iterable[str]) -> set[str]:
        query = "SELECT card_no FROM cards WHERE card_no = ANY(%s)"
        return {row[0] for row in self._any(query, card_nos)}

    def add_new(self, people: Sequence[tuple[Person, str, date, bytes]]) -> None:
        person_ids = [new_person_id() for _ in people]
        self._copy(
            f"COPY people ({_PERSON_COLUMNS}) FROM STDIN",
            (_person_row(pid, p[0]) for pid, p in zip(person_ids, people, strict=True)),
        )
        self._copy(
            f"COPY cards ({_CARD_COLUMNS}, status) FROM STDIN",
            (
                (*_card_row(RosterCard(card_no, pid, issued_on, key)), "active")
                for pid, (_, card_no, issued_on, key) in zip(person_ids, people, strict=True)
            ),
        )

    def upsert_people(self, people: Iterable[Person]) -> None:
        # The last row of the batch for an ID number wins. People not stored yet (all of them
        # on a first import) go straight in with COPY: the lock keeps them new until commit.
        latest = {person.id_no: person for person in people}
        stored = self.taken_id_nos(latest)
        fresh = [person for id_no, person in latest.items() if id_no not in stored]
        if fresh:
            rows = (_person_row(new_person_id(), person) for person in fresh)
            self._copy(f"COPY people ({_PERSON_COLUMNS}) FROM STDIN", rows)
        if len(fresh) == len(latest):
            return
        again = (person for id_no, person in latest.items() if id_no in stored)
        self._conn.execute(_STAGE_PEOPLE)
        rows = ((n, *_person_row(new_person_id(), p)) for n, p in enumerate(again))
        self._copy(f"COPY people_in (ord, {_PERSON_COLUMNS}) FROM STDIN", rows)
        self._conn.execute(_UPSERT_PEOPLE)
        self._conn.execute("TRUNCATE people_in")

    def upsert_units(self, units: Iterable[InsuredUnit]) -> None:
        self._conn.execute(_STAGE_UNITS)
        rows = ((n, unit.unit_id, unit.name) for n, unit in enumerate(units))
        self._copy("COPY units_in (ord, unit_id, name) FROM STDIN", rows)
        self._conn.execute(_UPSERT_UNITS)
        self._conn.execute("TRUNCATE units_in")

    def known_units(self, unit_ids: Iterable[str]) -> set[str]:
        query = "SELECT unit_id FROM insured_units WHERE unit_id = ANY(%s)"
        return {row[0] for row in self._any(query, unit_ids)}

    def holders_by_id_no(self, id_nos: Iterable[str]) -> dict[str, tuple[str, date]]:
        query = "SELECT id_no, person_id, birth_date FROM people WHERE id_no = ANY(%s)"
        return {id_no: (pid, birth) for id_no, pid, birth in self._any(query, id_nos)}

    def card_owners(self, card_nos: Iterable[str]) -> dict[str, str]:
        looked_up = list(card_nos)
        query = "SELECT card_no, person_id FROM cards WHERE card_no = ANY(%s)"
        owners = dict(self._any(query, looked_up))
        # Card numbers this transaction found free: the lock keeps them free until commit,
        # so upsert_cards can COPY them straight in.
        self._free_card_nos = {card_no for card_no in looked_up if card_no not in owners}
        return owners

    def upsert_cards(self, cards: Sequence[RosterCard]) -> None:
        latest = {card.card_no: card for card in cards}  # the batch's last row wins
        free, self._free_card_nos = self._free_card_nos, set()
        fresh = [card for card_no, card in latest.items() if card_no in free]
        if fresh:
            rows = ((*_card_row(card), "active") for card in fresh)
            try:
                self._copy(f"COPY cards ({_CARD_COLUMNS}, status) FROM STDIN", rows)
            except psycopg.errors.UniqueViolation:
                raise CardNumberTaken() from None
        if len(fresh) < len(latest):
            self._conn.execute(_STAGE_CARDS)
            again = (card for card_no, card in latest.items() if card_no not in free)
            rows = ((n, *_card_row(card)) for n, card in enumerate(again))
            self._copy(f"COPY cards_in (ord, {_CARD_COLUMNS}) FROM STDIN", rows)
            self._conn.execute(_UPSERT_CARDS)
            self._conn.execute("TRUNCATE cards_in")
        holders = sorted({card.person_id for card in cards})
        changes = self._conn.execute(_STATUS_CHANGES, (holders,)).fetchall()
        if changes:
            card_nos, statuses = zip(*changes, strict=True)
            self._conn.execute(_SET_STATUS, (list(card_nos), list(statuses)))

    def _copy(self, statement: str, rows: Iterable[tuple[object, ...]]) -> None:
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def _any(self, query: str, values: Iterable[str]) -> list[tuple]:
        return self._conn.execute(query, (list(values),)).fetchall()
