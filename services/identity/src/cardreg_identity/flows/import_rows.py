"""Reading and checking the reference CSV files row by row (no database here).

Problems name the line and the column, and say what rule failed; they never repeat a value,
since values are personal data. Stored forms are canonical (see `domain.normalise`).
"""

from __future__ import annotations

import csv
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

from cardreg_shared.models.common import b64url_decode

from ..domain import id_numbers
from ..domain.card_names import name_problem
from ..domain.normalise import canonical_code, neighborhood_number, squash
from ..domain.people import CARD_KEY_BYTES, HouseholdRecord, InsuredUnit, Person, ResidencePermit
from ..domain.places import VILLAGE_SUFFIXES, split_township

PEOPLE_COLUMNS = (
    "kind", "id_no", "name", "birth_date", "sex", "household_no", "township", "village",
    "neighborhood", "permit_issued_on", "permit_expires_on", "permit_serial_no",
)  # fmt: skip
HOUSEHOLD_COLUMNS = PEOPLE_COLUMNS[5:9]
PERMIT_COLUMNS = PEOPLE_COLUMNS[9:12]
# Columns a people file may have (older files do not): other documents and the insured unit.
PEOPLE_OPTIONAL = ("passport_no", "driving_licence_no", "insured_unit")
CARD_COLUMNS = ("card_no", "id_no", "issued_on", "public_key")
UNIT_COLUMNS = ("unit_id", "name")

EARLIEST_BIRTH = date(1900, 1, 1)
EARLIEST_CARD = date(1995, 3, 1)  # National Health Insurance began
_HOUSEHOLD_NO = re.compile(r"[A-Z][0-9]{7}")
_SERIAL_NO = re.compile(r"[A-Z]{2}[0-9]{8}")
_CARD_NO = re.compile(r"[0-9]{12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PASSPORT_NO = re.compile(r"[0-9]{9}")
_LICENCE_NO = re.compile(r"[A-Z0-9]{6,20}")
_UNIT_ID = re.compile(r"[0-9]{9}")
KINDS = ("citizen", "foreigner")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowProblem:
    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}"
        return (
            f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


@dataclass
class Parsed(Generic[T]):
    rows: list[tuple[int, T]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CardRow:
    card_no: str
    id_no: str
    issued_on: date
    public_key: bytes


class RowErrors(Exception):
    """Collected (column, reason) pairs for one row."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


class _Row:
    """One CSV record's fields, collecting every problem instead of stopping at the first."""

    def __init__(self, fields: dict[str, str], today: date) -> None:
        self._fields = {key: value.strip() for key, value in fields.items()}
        self._fields.update((name, "") for name in PEOPLE_OPTIONAL if name not in fields)
        self._today = today
        self.errors: list[tuple[str, str]] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))

    def text(self, column: str) -> str:
        value = self._fields[column]
        if not value:
            self.fail(column, "is required")
        return value

    def blank(self, columns: tuple[str, ...], reason: str) -> None:
        for column in columns:
            if self._fields[column]:
                self.fail(column, reason)

    def date(self, column: str, earliest: date, latest: date | None = None) -> date | None:
        """An ISO date YYYY-MM-DD within [earliest, latest]; `latest` defaults to today."""
        value = self.text(column)
        if not value:
            return None
        try:
            day = date.fromisoformat(value) if _ISO_DATE.fullmatch(value) else None
        except ValueError:
            day = None
        if day is None:
            self.fail(column, "is not a date YYYY-MM-DD")
            return None
        latest = latest or self._today
        if not earliest <= day <= latest:
            self.fail(column, f"is not between {earliest.isoformat()} and {latest.isoformat()}")
            return None
        return day

    def done(self) -> None:
        if self.errors:
            raise RowErrors(self.errors)


def person_from(fields: dict[str, str], today: date) -> Person:
    row = _Row(fields, today)
    kind = row.text("kind")
    if kind and kind not in KINDS:
        row.fail("kind", "must be citizen or foreigner")
    id_no = row.text("id_no").upper()
    id_kind = id_numbers.kind_of(id_no)
    if id_no and id_kind is None:
        row.fail("id_no", "is not a valid ID number (format or check digit)")
    elif id_kind is not None and kind in KINDS and id_kind != kind:
        row.fail("id_no", f"is not a {kind}'s ID number")
    name = row.text("name")
    problem = name_problem(name) if name else None
    if problem:
        row.fail("name", problem)
    birth = row.date("birth_date", EARLIEST_BIRTH)
    sex = row.text("sex").upper()
    if sex and sex not in ("M", "F"):
        row.fail("sex", "must be M or F")
    elif sex and id_kind is not None and id_numbers.sex_of(id_no) != sex:
        row.fail("sex", "does not match the ID number")
    household = permit = None
    if kind == "citizen":
        row.blank(PERMIT_COLUMNS, "is for foreign residents only")
        household = _household(row)
    elif kind == "foreigner":
        row.blank(HOUSEHOLD_COLUMNS, "is for citizens only")
        row.blank(("passport_no",), "is for citizens only (an ROC passport)")
        permit = _permit(row)
    passport = _optional_code(row, "passport_no", _PASSPORT_NO, "must be 9 digits")
    licence = _optional_code(
        row, "driving_licence_no", _LICENCE_NO, "must be 6-20 letters or digits"
    )
    unit = _optional_code(row, "insured_unit", _UNIT_ID, "must be an insured unit's 9 digits")
    row.done()
    return Person(
        kind,  # type: ignore[arg-type]
        id_no,
        name,
        birth,  # type: ignore[arg-type]
        sex,  # type: ignore[arg-type]
        household,
        permit,
        passport_no=passport,
        driving_licence_no=licence,
        insured_unit=unit,
    )


def _optional_code(row: _Row, column: str, pattern: re.Pattern[str], reason: str) -> str | None:
    value = canonical_code(row._fields[column])
    if not value:
        return None
    if not pattern.fullmatch(value):
        row.fail(column, reason)
        return None
    return value


def unit_from(fields: dict[str, str], today: date) -> InsuredUnit:
    row = _Row(fields, today)
    unit_id = canonical_code(row.text("unit_id"))
    if unit_id and not _UNIT_ID.fullmatch(unit_id):
        row.fail("unit_id", "must be 9 digits")
    name = squash(row.text("name"))
    if name and len(name) > 100:
        row.fail("name", "must have at most 100 characters")
    row.done()
    return InsuredUnit(unit_id, name)


def _household(row: _Row) -> HouseholdRecord | None:
    household_no = canonical_code(row.text("household_no"))
    if household_no and not _HOUSEHOLD_NO.fullmatch(household_no):
        row.fail("household_no", "must be a letter and 7 digits")
    township = squash(row.text("township"))
    if township and split_township(township) is None:
        row.fail("township", "must be a township with its city or county, e.g. 臺北市大安區")
    village = squash(row.text("village"))
    if village and not (2 <= len(village) <= 16 and village.endswith(VILLAGE_SUFFIXES)):
        row.fail("village", "must be a village name ending in 里 or 村")
    number_text = row.text("neighborhood")
    neighborhood = neighborhood_number(number_text) if number_text else None
    if number_text and not (neighborhood is not None and 1 <= neighborhood <= 999):
        row.fail("neighborhood", "must be a number from 1 to 999")
    if row.errors or neighborhood is None:
        return None
    return HouseholdRecord(household_no, township, village, neighborhood)


def _permit(row: _Row) -> ResidencePermit | None:
    issued = row.date("permit_issued_on", EARLIEST_BIRTH)
    expires = row.date("permit_expires_on", EARLIEST_BIRTH, date.max)
    if issued and expires and expires <= issued:
        row.fail("permit_expires_on", "must be after permit_issued_on")
    serial = canonical_code(row.text("permit_serial_no"))
    if serial and not _SERIAL_NO.fullmatch(serial):
        row.fail("permit_serial_no", "must be 2 letters and 8 digits")
    if row.errors or issued is None or expires is None:
        return None
    return ResidencePermit(issued, expires, serial)


def card_from(fields: dict[str, str], today: date) -> CardRow:
    row = _Row(fields, today)
    card_no = row.text("card_no")
    if card_no and not _CARD_NO.fullmatch(card_no):
        row.fail("card_no", "must be 12 digits")
    id_no = row.text("id_no").upper()
    if id_no and not id_numbers.is_valid(id_no):
        row.fail("id_no", "is not a valid ID number (format or check digit)")
    issued = row.date("issued_on", EARLIEST_CARD)
    key_text = row.text("public_key")
    key = b""
    if key_text:
        try:
            key = b64url_decode(key_text)
        except ValueError:
            row.fail("public_key", "is not base64url")
        else:
            if len(key) != CARD_KEY_BYTES:
                row.fail("public_key", f"must encode exactly {CARD_KEY_BYTES} bytes")
    row.done()
    return CardRow(card_no, id_no, issued, key)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Part:
    """Slice `index` of `of`: the records whose ID number falls in it. Every record of a
    person (their row, their cards) falls in the same slice, whatever the file's order, so
    slices load side by side and a person's last row still wins."""

    index: int
    of: int

    def holds(self, id_no: str | None) -> bool:
        # Keyed on the ID number as the rows normalise it; a record with the wrong number of
        # fields has none, and goes to the first slice (its problem is reported once).
        if id_no is None:
            return self.index == 0
        return zlib.crc32(id_no.strip().upper().encode()) % self.of == self.index


def _records(
    label: str,
    lines: Iterable[str],
    columns: tuple[str, ...],
    optional: tuple[str, ...] = (),
    part: Part | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, fields) per record (with `part`, of that slice only: the others are passed by
    before their fields are named); RowProblem raised for a header that is not `columns` (and
    any of `optional`)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    names = [name.strip() for name in header or ()]
    required = [name for name in names if name not in optional]
    extra = [name for name in names if name in optional]
    if sorted(required) != sorted(columns) or len(set(extra)) != len(extra):
        expected = ",".join(columns)
        also = f" (and any of {','.join(optional)})" if optional else ""
        raise _FileProblem(
            RowProblem(label, 1, None, f"the header must name the columns {expected}{also}")
        )
    id_at = names.index("id_no") if part is not None else -1
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise _FileProblem(RowProblem(label, line, None, "is not valid CSV")) from None
        if not any(value.strip() for value in record):
            continue
        whole = len(record) == len(names)
        if part is not None and not part.holds(record[id_at] if whole else None):
            continue
        if not whole:
            yield line, {"": str(len(names))}  # the caller reports the field count
            continue
        yield line, dict(zip(names, record))


class _FileProblem(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _lines(label: str, path: Path) -> Iterator[str]:
    """The file's lines as text, read as it goes (a population's file does not fit in memory
    as one string)."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        try:
            yield from text
        except UnicodeDecodeError:
            raise _FileProblem(RowProblem(label, _first_bad_line(path), None, "is not UTF-8"))


def _first_bad_line(path: Path) -> int:
    with path.open("rb") as data:
        for number, raw in enumerate(data, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def file_problem(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> RowProblem | None:
    """What makes the whole file unreadable (not UTF-8, not CSV, the wrong header), or None.
    One pass over the file before any row loads: a broken file loads nothing."""
    label = path.name
    try:
        for _ in _records(label, _lines(label, path), columns, optional):
            pass
    except _FileProblem as exc:
        return exc.problem
    return None


def parse_batches(
    path: Path,
    columns: tuple[str, ...],
    build: Callable[[dict[str, str], date], T],
    today: date,
    optional: tuple[str, ...] = (),
    *,
    size: int,
    part: Part | None = None,
) -> Iterator[Parsed[T]]:
    """Every good row, and a problem for every bad one, `size` records at a time; with
    `part`, only that slice's records. Check the file with `file_problem` first: a file
    broken half way raises `ValueError` here."""
    label = path.name
    parsed: Parsed[T] = Parsed()
    try:
        for line, fields in _records(label, _lines(label, path), columns, optional, part):
            if "" in fields:
                parsed.problems.append(
                    RowProblem(label, line, None, f"expected {fields['']} fields")
                )
            else:
                try:
                    parsed.rows.append((line, build(fields, today)))
                except RowErrors as exc:
                    parsed.problems.extend(RowProblem(label, line, c, r) for c, r in exc.errors)
            if len(parsed.rows) + len(parsed.problems) >= size:
                yield parsed
                parsed = Parsed()
    except _FileProblem as exc:
        raise ValueError(f"{exc.problem} (the file changed while it was read)") from None
    yield parsed
