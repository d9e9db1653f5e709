"""`cardreg import`: load people and cards from CSV files into the roster.

people.csv (UTF-8, header row, columns in any order):
    kind,id_no,name,birth_date,sex,household_no,township,village,neighborhood,
    permit_issued_on,permit_expires_on,permit_serial_no
- kind: citizen | foreigner; id_no with a valid check digit, of that kind; sex M | F and the
  same as the ID number says; birth_date YYYY-MM-DD; name as on the card (Big5, 20 bytes;
  rare characters as the Unicode private-use characters of Big5's user-defined area).
- citizens: household_no (a letter and 7 digits), township with its city or county
  (臺北市大安區), village (…里 / …村), neighborhood (a number); the permit columns empty.
- foreigners: permit_issued_on, permit_expires_on (after the issue date), permit_serial_no
  (2 letters and 8 digits); the household columns empty.

  Optional columns (a file may leave any out): passport_no (an ROC passport: 9 digits, citizens
  only), driving_licence_no (6-20 letters or digits), insured_unit (the 9-digit id of the
  insured unit, i.e. employer, the person is insured through: stored already or in the units
  file). Empty means none.

units.csv: unit_id,name
- unit_id 9 digits; name up to 100 characters. Loaded before the people.

cards.csv: card_no,id_no,issued_on,public_key
- card_no 12 digits; id_no of a person already stored or in the people file; issued_on not
  before the holder's birth; public_key base64url (no padding) of the raw 32-byte Ed25519 key.

Rows are upserted: a person by ID number (their person_id and guessing state are kept), a card
by card number. A person's newest card is active and older ones are marked replaced. A bad row
is reported with its line and column and skipped; good rows load. A file that cannot be read
as CSV with the expected header loads nothing. Nothing stored is deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .import_rows import (
    CARD_COLUMNS,
    PEOPLE_COLUMNS,
    PEOPLE_OPTIONAL,
    UNIT_COLUMNS,
    CardRow,
    RowProblem,
    card_from,
    parse_file,
    person_from,
    unit_from,
)
from .ports import RosterCard, RosterWriter

BATCH_SIZE = 5_000  # rows per transaction: keeps each write lock short for the running service


@dataclass
class ImportReport:
    people_loaded: int = 0
    cards_loaded: int = 0
    units_loaded: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0


def _batches(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _load_units(
    roster: RosterWriter, path: Path, today: date, report: ImportReport, batch_size: int
) -> None:
    parsed = parse_file(path, UNIT_COLUMNS, unit_from, today)
    report.problems.extend(parsed.problems)
    for batch in _batches(parsed.rows, batch_size):
        with roster.transaction():
            roster.upsert_units(unit for _, unit in batch)
        report.units_loaded += len(batch)


def _load_people(
    roster: RosterWriter, path: Path, today: date, report: ImportReport, batch_size: int
) -> None:
    parsed = parse_file(path, PEOPLE_COLUMNS, person_from, today, PEOPLE_OPTIONAL)
    problems = parsed.problems
    for batch in _batches(parsed.rows, batch_size):
        with roster.transaction():
            named = {p.insured_unit for _, p in batch if p.insured_unit is not None}
            known = roster.known_units(named)
            good = []
            for line, person in batch:
                if person.insured_unit is not None and person.insured_unit not in known:
                    reason = "no such insured unit (import it in the units file first)"
                    problems.append(RowProblem(path.name, line, "insured_unit", reason))
                    continue
                good.append(person)
            roster.upsert_people(good)
        report.people_loaded += len(good)
    report.problems.extend(sorted(problems, key=lambda problem: problem.line))


def _load_cards(
    roster: RosterWriter, path: Path, today: date, report: ImportReport, batch_size: int
) -> None:
    parsed = parse_file(path, CARD_COLUMNS, card_from, today)
    problems = parsed.problems
    for batch in _batches(parsed.rows, batch_size):
        with roster.transaction():
            holders = roster.holders_by_id_no(card.id_no for _, card in batch)
            owners = roster.card_owners(card.card_no for _, card in batch)
            rows: list[RosterCard] = []
            for line, card in batch:
                problem = _card_problem(card, holders, owners)
                if problem is not None:
                    problems.append(RowProblem(path.name, line, *problem))
                    continue
                person_id = holders[card.id_no][0]
                owners[card.card_no] = person_id
                rows.append(RosterCard(card.card_no, person_id, card.issued_on, card.public_key))
            roster.upsert_cards(rows)
        report.cards_loaded += len(rows)
    report.problems.extend(sorted(problems, key=lambda problem: problem.line))


def _card_problem(
    card: CardRow, holders: dict[str, tuple[str, date]], owners: dict[str, str]
) -> tuple[str, str] | None:
    holder = holders.get(card.id_no)
    if holder is None:
        return "id_no", "no such person (import them in the people file first)"
    person_id, birth_date = holder
    if card.issued_on < birth_date:
        return "issued_on", "is before the holder's birth date"
    if owners.get(card.card_no, person_id) != person_id:
        return "card_no", "already belongs to another person"
    return None


def import_files(
    roster: RosterWriter,
    *,
    people: Path | None = None,
    cards: Path | None = None,
    units: Path | None = None,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Units, then people, then cards: each file may refer to what the one before holds."""
    started = time.perf_counter()
    today = today or date.today()
    report = ImportReport()
    if units is not None:
        _load_units(roster, units, today, report, batch_size)
    if people is not None:
        _load_people(roster, people, today, report, batch_size)
    if cards is not None:
        _load_cards(roster, cards, today, report, batch_size)
    report.seconds = time.perf_counter() - started
    return report
