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
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from .import_rows import (
    CARD_COLUMNS,
    PEOPLE_COLUMNS,
    PEOPLE_OPTIONAL,
    UNIT_COLUMNS,
    CardRow,
    Parsed,
    Part,
    RowProblem,
    card_from,
    file_problem,
    parse_batches,
    person_from,
    unit_from,
)
from .ports import CardNumberTaken, RosterCard, RosterWriter

BATCH_SIZE = 5_000  # rows per transaction: keeps each write lock short for the running service
CARD_RETRIES = 3

T = TypeVar("T")


@dataclass
class ImportReport:
    people_loaded: int = 0
    cards_loaded: int = 0
    units_loaded: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Written:
    loaded: int
    problems: list[RowProblem]


def _pipelined(
    batches: Iterator[Parsed[T]], write: Callable[[Parsed[T]], _Written]
) -> Iterator[_Written]:
    """Write each batch in one worker thread while the caller's thread parses the next: the
    database works (the driver waits without the GIL) while Python checks rows, instead of
    the two taking turns. One batch writes and one waits at most, so memory stays a few
    batches whatever the file's size; batches commit in file order."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="roster-writer") as writer:
        pending: Future[_Written] | None = None
        try:
            for batch in batches:
                queued = writer.submit(write, batch)
                if pending is not None:
                    yield pending.result()
                pending = queued
            if pending is not None:
                yield pending.result()
        except BaseException:
            writer.shutdown(cancel_futures=True)  # a failed batch: nothing after it is written
            raise


def _load(
    path: Path,
    columns: tuple[str, ...],
    build: Callable[[dict[str, str], date], T],
    write: Callable[[Parsed[T]], _Written],
    today: date,
    batch_size: int,
    optional: tuple[str, ...] = (),
    only: Part | None = None,
) -> tuple[int, list[RowProblem]]:
    """(rows loaded, problems in line order) for one file: nothing loads from a broken file
    (with `only`, a slice of it, which the caller checked)."""
    if only is None:
        broken = file_problem(path, columns, optional)
        if broken is not None:
            return 0, [broken]
    loaded, problems = 0, []
    batches = parse_batches(path, columns, build, today, optional, size=batch_size, part=only)
    for written in _pipelined(batches, write):
        loaded += written.loaded
        problems += written.problems
    return loaded, sorted(problems, key=lambda problem: problem.line)


def _units_writer(roster: RosterWriter) -> Callable[[Parsed], _Written]:
    def write(parsed: Parsed) -> _Written:
        with roster.transaction():
            roster.upsert_units(unit for _, unit in parsed.rows)
        return _Written(len(parsed.rows), parsed.problems)

    return write


def _people_writer(roster: RosterWriter, label: str) -> Callable[[Parsed], _Written]:
    def write(parsed: Parsed) -> _Written:
        problems = parsed.problems
        with roster.transaction():
            named = {p.insured_unit for _, p in parsed.rows if p.insured_unit is not None}
            known = roster.known_units(named)
            good = []
            for line, person in parsed.rows:
                if person.insured_unit is not None and person.insured_unit not in known:
                    reason = "no such insured unit (import it in the units file first)"
                    problems.append(RowProblem(label, line, "insured_unit", reason))
                    continue
                good.append(person)
            roster.upsert_people(good)
        return _Written(len(good), problems)

    return write


def _cards_writer(roster: RosterWriter, label: str) -> Callable[[Parsed], _Written]:
    def write(parsed: Parsed) -> _Written:
        # A card number another slice took meanwhile: written again, that row now refused.
        for _ in range(CARD_RETRIES):
            try:
                return write_once(parsed)
            except CardNumberTaken:
                continue
        return write_once(parsed)

    def write_once(parsed: Parsed) -> _Written:
        problems = list(parsed.problems)
        with roster.transaction():
            holders = roster.holders_by_id_no(card.id_no for _, card in parsed.rows)
            owners = roster.card_owners(card.card_no for _, card in parsed.rows)
            rows: list[RosterCard] = []
            for line, card in parsed.rows:
                problem = _card_problem(card, holders, owners)
                if problem is not None:
                    problems.append(RowProblem(label, line, *problem))
                    continue
                person_id = holders[card.id_no][0]
                owners[card.card_no] = person_id
                rows.append(RosterCard(card.card_no, person_id, card.issued_on, card.public_key))
            roster.upsert_cards(rows)
        return _Written(len(rows), problems)

    return write


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


def broken_files(
    *, people: Path | None = None, cards: Path | None = None
) -> tuple[list[RowProblem], Path | None, Path | None]:
    """For an import in slices, the one check of each file first: the problems of the broken
    ones, and the files left to load (a broken file loads nothing, as in `import_files`)."""
    problems = []
    if people is not None and (broken := file_problem(people, PEOPLE_COLUMNS, PEOPLE_OPTIONAL)):
        problems.append(broken)
        people = None
    if cards is not None and (broken := file_problem(cards, CARD_COLUMNS)):
        problems.append(broken)
        cards = None
    return problems, people, cards


def merged(first: ImportReport, slices: list[ImportReport], started: float) -> ImportReport:
    """One report of an import in slices: the counts added up, the problems of each file in
    line order (units, people, cards, as `import_files` reports them)."""
    report = ImportReport(first.people_loaded, first.cards_loaded, first.units_loaded)
    problems = list(first.problems)
    for part in slices:
        report.people_loaded += part.people_loaded
        report.cards_loaded += part.cards_loaded
        problems += part.problems
    order = {name: n for n, name in enumerate(dict.fromkeys(p.file for p in problems))}
    report.problems = sorted(problems, key=lambda p: (order[p.file], p.line))
    report.seconds = time.perf_counter() - started
    return report


def import_files(
    roster: RosterWriter,
    *,
    people: Path | None = None,
    cards: Path | None = None,
    units: Path | None = None,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    only: Part | None = None,
) -> ImportReport:
    """Units, then people, then cards: each file may refer to what the one before holds.
    With `only`, the people and cards of that slice of an import side by side with others;
    the caller loads the units and checks the files first (`broken_files`)."""
    started = time.perf_counter()
    today = today or date.today()
    report = ImportReport()
    if units is not None:
        report.units_loaded, problems = _load(
            units, UNIT_COLUMNS, unit_from, _units_writer(roster), today, batch_size
        )
        report.problems += problems
    if people is not None:
        report.people_loaded, problems = _load(
            people, PEOPLE_COLUMNS, person_from, _people_writer(roster, people.name),
            today, batch_size, PEOPLE_OPTIONAL, only,
        )  # fmt: skip
        report.problems += problems
    if cards is not None:
        report.cards_loaded, problems = _load(
            cards,
            CARD_COLUMNS,
            card_from,
            _cards_writer(roster, cards.name),
            today,
            batch_size,
            only=only,
        )
        report.problems += problems
    report.seconds = time.perf_counter() - started
    return report
