"""`cardreg import`: good rows load, bad rows are reported by line and column, reruns upsert."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cardreg_identity.adapters.postgres_roster import PgRoster
from cardreg_identity.cli import import_main, import_reference
from cardreg_identity.flows.import_rows import CARD_COLUMNS, PEOPLE_COLUMNS
from cardreg_identity.flows.ports import CardNumberTaken, RosterCard
from cardreg_shared.models.common import b64url_encode
from cardreg_testkit.postgres import fresh_schema

from .conftest import query

TODAY = date(2026, 6, 1)
HEADER = ",".join(PEOPLE_COLUMNS)
CARDS_HEADER = ",".join(CARD_COLUMNS)
KEY = b64url_encode(b"\x07" * 32)
KEY_2 = b64url_encode(b"\x08" * 32)

CITIZEN = "citizen,A123456789,陳志明,1980-05-17,M,a1234567,台北市 大安區,大學里,０１２鄰,,,"
CITIZEN_2 = "citizen,F231451893,林淑芬,1975-02-03,F,F7654321,新北市板橋區,中山里,5,,,"
FOREIGNER = "foreigner,A800000014,NGUYEN VAN AN,1990-01-02,M,,,,,2024-03-01,2027-02-28,ya12345678"


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


rows = query


@pytest.fixture
def db(database: Path | str) -> Path | str:
    """identity.db, or a schema on PostgreSQL: every import test runs on both."""
    return database


def test_good_rows_load_in_canonical_form(tmp_path: Path, db: Path) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN, CITIZEN_2, FOREIGNER)
    cards = write(tmp_path, "cards.csv", CARDS_HEADER, f"000000000001,A123456789,2010-01-01,{KEY}",
                  f"000000000002,A800000014,2024-03-05,{KEY_2}")  # fmt: skip
    report = import_reference(db, people=people, cards=cards, today=TODAY)
    assert report.problems == []
    assert (report.people_loaded, report.cards_loaded) == (3, 2)
    assert rows(
        db,
        "SELECT household_no, township, village, neighborhood FROM people WHERE id_no = 'A123456789'",
    ) == [("A1234567", "臺北市大安區", "大學里", 12)]
    assert rows(db, "SELECT permit_serial_no FROM people WHERE kind = 'foreigner'") == [
        ("YA12345678",)
    ]
    assert rows(db, "SELECT card_no, status FROM cards ORDER BY card_no") == [
        ("000000000001", "active"), ("000000000002", "active"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("citizen,A123456788,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,12,,,", "id_no"),
        ("citizen,A800000014,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,12,,,", "id_no"),
        ("citizen,A123456789,陳志明,1980-05-17,F,A1234567,臺北市大安區,大學里,12,,,", "sex"),
        ("citizen,A123456789,陳😀,1980-05-17,M,A1234567,臺北市大安區,大學里,12,,,", "name"),
        ("citizen,A123456789,陳志明,1980-13-17,M,A1234567,臺北市大安區,大學里,12,,,", "birth_date"),
        ("citizen,A123456789,陳志明,2999-01-01,M,A1234567,臺北市大安區,大學里,12,,,", "birth_date"),
        ("citizen,A123456789,陳志明,19800517,M,A1234567,臺北市大安區,大學里,12,,,", "birth_date"),
        ("citizen,A123456789,陳志明,1980-05-17,M,A12345,臺北市大安區,大學里,12,,,", "household_no"),
        ("citizen,A123456789,陳志明,1980-05-17,M,A1234567,大安區,大學里,12,,,", "township"),
        ("citizen,A123456789,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學,12,,,", "village"),
        (
            "citizen,A123456789,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,twelve,,,",
            "neighborhood",
        ),
        ("citizen,A123456789,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,,,,", "neighborhood"),
        (
            "citizen,A123456789,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,12,2024-01-01,,",
            "permit_issued_on",
        ),
        ("person,A123456789,陳志明,1980-05-17,M,A1234567,臺北市大安區,大學里,12,,,", "kind"),
        (
            "foreigner,A800000014,NGUYEN,1990-01-02,M,A1234567,,,,2024-03-01,2027-02-28,YA12345678",
            "household_no",
        ),
        (
            "foreigner,A800000014,NGUYEN,1990-01-02,M,,,,,2024-03-01,2024-02-28,YA12345678",
            "permit_expires_on",
        ),
        (
            "foreigner,A800000014,NGUYEN,1990-01-02,M,,,,,2024-03-01,2027-02-28,Y12345678",
            "permit_serial_no",
        ),
        ("foreigner,A800000014,NGUYEN,1990-01-02,M,,,,,,2027-02-28,YA12345678", "permit_issued_on"),
    ],
)
def test_bad_people_rows_are_reported_and_skipped(
    tmp_path: Path, db: Path, line: str, column: str
) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN_2, line)
    report = import_reference(db, people=people, today=TODAY)
    assert report.people_loaded == 1
    assert [(p.file, p.line, p.column) for p in report.problems] == [("people.csv", 3, column)]
    assert rows(db, "SELECT id_no FROM people") == [("F231451893",)]


def test_problems_carry_no_personal_data(tmp_path: Path, db: Path) -> None:
    people = write(tmp_path, "people.csv", HEADER,
                   "citizen,A123456788,陳😀明,1980-05-17,X,ZZ,台北,某,x,,,")  # fmt: skip
    report = import_reference(db, people=people, today=TODAY)
    assert len(report.problems) >= 5
    text = "\n".join(map(str, report.problems))
    for value in ("A123456788", "陳", "ZZ", "台北", "某"):
        assert value not in text
    assert all(str(p).startswith("people.csv line 2, ") for p in report.problems)


def test_bad_card_rows(tmp_path: Path, db: Path) -> None:
    import_reference(
        db, people=write(tmp_path, "people.csv", HEADER, CITIZEN, CITIZEN_2), today=TODAY
    )
    cards = write(
        tmp_path, "cards.csv", CARDS_HEADER,
        f"000000000001,A123456789,2010-01-01,{KEY}",  # good
        f"00000000002,A123456789,2010-01-01,{KEY}",  # 11 digits
        f"000000000003,A800000014,2010-01-01,{KEY}",  # nobody of that number is stored
        f"000000000004,A123456789,1970-01-01,{KEY}",  # before the holder's birth
        "000000000005,A123456789,2010-01-01,AAAA",  # 3-byte key
        "000000000006,A123456789,2010-01-01,not+base64/",
        f"000000000001,F231451893,2012-01-01,{KEY}",  # the card is someone else's
        "000000000007,A123456789,2010-01-01",  # a field short
    )  # fmt: skip
    report = import_reference(db, cards=cards, today=TODAY)
    assert report.cards_loaded == 1
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "card_no"), (4, "id_no"), (5, "issued_on"), (6, "public_key"),
        (7, "public_key"), (8, "card_no"), (9, None),
    ]  # fmt: skip
    assert rows(db, "SELECT card_no FROM cards") == [("000000000001",)]


def test_rerun_does_not_duplicate_and_a_newer_card_replaces(tmp_path: Path, db: Path) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN, FOREIGNER)
    first = write(tmp_path, "cards.csv", CARDS_HEADER, f"000000000001,A123456789,2010-01-01,{KEY}")
    import_reference(db, people=people, cards=first, today=TODAY)
    person_ids = rows(db, "SELECT id_no, person_id FROM people ORDER BY id_no")
    import_reference(db, people=people, cards=first, today=TODAY)
    assert rows(db, "SELECT id_no, person_id FROM people ORDER BY id_no") == person_ids
    assert rows(db, "SELECT count(*) FROM cards") == [(1,)]
    newer = write(
        tmp_path, "newer.csv", CARDS_HEADER, f"000000000009,A123456789,2021-07-01,{KEY_2}"
    )
    import_reference(db, cards=newer, today=TODAY)
    assert rows(db, "SELECT card_no, status FROM cards ORDER BY card_no") == [
        ("000000000001", "replaced"), ("000000000009", "active"),
    ]  # fmt: skip


def test_in_one_batch_the_last_row_wins_and_new_rows_mix_with_stored_ones(
    tmp_path: Path, db: Path
) -> None:
    import_reference(db, people=write(tmp_path, "first.csv", HEADER, CITIZEN), today=TODAY)
    (kept,) = rows(db, "SELECT person_id FROM people WHERE id_no = 'A123456789'")
    renamed = CITIZEN.replace("陳志明", "陳志強")  # stored: an update
    newer = FOREIGNER.replace("NGUYEN VAN AN", "NGUYEN VAN BINH")  # new: goes straight in
    people = write(tmp_path, "people.csv", HEADER, CITIZEN_2, CITIZEN, renamed, FOREIGNER, newer)
    cards = write(tmp_path, "cards.csv", CARDS_HEADER,
                  f"000000000001,A123456789,2010-01-01,{KEY}",
                  f"000000000002,F231451893,2012-01-01,{KEY}",
                  f"000000000001,A123456789,2011-01-01,{KEY_2}")  # fmt: skip
    report = import_reference(db, people=people, cards=cards, today=TODAY)
    assert report.problems == []
    assert rows(db, "SELECT id_no, name FROM people ORDER BY id_no") == [
        ("A123456789", "陳志強"), ("A800000014", "NGUYEN VAN BINH"), ("F231451893", "林淑芬"),
    ]  # fmt: skip
    assert rows(db, "SELECT person_id FROM people WHERE id_no = 'A123456789'") == [kept]
    cards_now = "SELECT card_no, public_key, status FROM cards ORDER BY card_no"
    assert [(no, bytes(key), status) for no, key, status in rows(db, cards_now)] == [
        ("000000000001", b"\x08" * 32, "active"), ("000000000002", b"\x07" * 32, "active"),
    ]  # fmt: skip


def test_the_newest_card_is_active_whatever_the_order_it_came_in(tmp_path: Path, db: Path) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN)
    cards = write(tmp_path, "cards.csv", CARDS_HEADER,
                  f"000000000009,A123456789,2021-07-01,{KEY_2}",
                  f"000000000001,A123456789,2010-01-01,{KEY}",
                  f"000000000005,A123456789,2021-07-01,{KEY}")  # fmt: skip
    import_reference(db, people=people, cards=cards, today=TODAY)
    statuses = "SELECT card_no, status FROM cards ORDER BY card_no"
    assert rows(db, statuses) == [
        ("000000000001", "replaced"),
        ("000000000005", "replaced"),
        ("000000000009", "active"),
    ]  # fmt: skip  (same issue date: the higher card number)
    # A correction that makes the oldest card the newest turns it active again.
    fixed = write(tmp_path, "fixed.csv", CARDS_HEADER, f"000000000001,A123456789,2025-01-01,{KEY}")
    import_reference(db, cards=fixed, today=TODAY)
    assert rows(db, statuses) == [
        ("000000000001", "active"), ("000000000005", "replaced"), ("000000000009", "replaced"),
    ]  # fmt: skip


def test_a_broken_file_loads_nothing_and_loses_nothing(tmp_path: Path, db: Path) -> None:
    import_reference(db, people=write(tmp_path, "people.csv", HEADER, CITIZEN), today=TODAY)
    before = rows(db, "SELECT * FROM people")
    wrong_header = write(tmp_path, "wrong.csv", "kind,id_no,name", "citizen,F231451893,林淑芬")
    report = import_reference(db, people=wrong_header, today=TODAY)
    assert [(p.line, p.column) for p in report.problems] == [(1, None)]
    not_utf8 = tmp_path / "big5.csv"
    not_utf8.write_bytes((HEADER + "\n" + CITIZEN_2 + "\n").encode("big5"))
    report = import_reference(db, people=not_utf8, today=TODAY)
    assert [(p.line, p.reason) for p in report.problems] == [(2, "is not UTF-8")]
    assert report.people_loaded == 0
    assert rows(db, "SELECT * FROM people") == before


def test_a_file_broken_after_many_batches_loads_nothing(tmp_path: Path, db: Path) -> None:
    """Rows are checked and written a batch at a time, but only after the whole file has been
    read: a break at the end still loads none of the batches before it."""
    good = (CITIZEN, CITIZEN_2, FOREIGNER)
    runaway_quote = 'citizen,"A123456789' + "x" * 200_000  # past the csv module's field limit
    not_csv = write(tmp_path, "people.csv", HEADER, *good, runaway_quote)
    report = import_reference(db, people=not_csv, today=TODAY, batch_size=1)
    assert [(p.line, p.reason) for p in report.problems] == [(5, "is not valid CSV")]
    not_utf8 = tmp_path / "tail.csv"
    not_utf8.write_bytes("\n".join((HEADER, *good)).encode() + b"\ncitizen,\xff\n")
    report = import_reference(db, people=not_utf8, today=TODAY, batch_size=1)
    assert [(p.line, p.reason) for p in report.problems] == [(5, "is not UTF-8")]
    assert report.people_loaded == 0
    assert rows(db, "SELECT count(*) FROM people") == [(0,)]


def test_quoted_fields_bom_and_column_order(tmp_path: Path, db: Path) -> None:
    columns = list(reversed(PEOPLE_COLUMNS))
    values = dict(zip(PEOPLE_COLUMNS, CITIZEN_2.split(",")))
    path = tmp_path / "people.csv"
    lines = [
        ",".join(columns),
        ",".join(f'"{values[c]}"' for c in columns),
        '"citizen","bad\nline"',
    ]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    report = import_reference(db, people=path, today=TODAY)
    assert report.people_loaded == 1
    assert [(p.line, p.reason) for p in report.problems] == [(3, "expected 12 fields")]


def test_cli_exit_codes_and_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    good = write(tmp_path, "good.csv", HEADER, CITIZEN)
    assert import_main(["--data-dir", str(data), "--people", str(good)]) == 0
    bad = write(tmp_path, "bad.csv", HEADER, CITIZEN_2, "citizen,A123456788,x,1980-01-01,M,,,,,,,")
    assert import_main(["--data-dir", str(data), "--people", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "bad.csv line 3, id_no:" in captured.err
    assert "A123456788" not in captured.err + captured.out
    assert "imported 1 people" in captured.out and "1 rows rejected" in captured.out
    with pytest.raises(SystemExit) as caught:
        import_main(["--data-dir", str(data), "--people", str(tmp_path / "missing.csv")])
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        import_main(["--data-dir", str(data)])


# Documents and insured units: optional people columns and the units file.

EXTRA_HEADER = HEADER + ",passport_no,insured_unit,driving_licence_no"


def test_units_documents_and_insurance_load(tmp_path: Path, db: Path) -> None:
    units = write(
        tmp_path, "units.csv", "unit_id,name", "123456789,大安企業社", "987654321,長春診所"
    )
    people = write(
        tmp_path,
        "people.csv",
        EXTRA_HEADER,
        CITIZEN + ",312345678,123456789,A123456789",
        CITIZEN_2 + ",,,",
        FOREIGNER + ",,987654321,",
    )
    report = import_reference(db, people=people, units=units, today=TODAY)
    assert report.problems == [] and (report.units_loaded, report.people_loaded) == (2, 3)
    assert rows(
        db,
        "SELECT id_no, passport_no, driving_licence_no, insured_unit FROM people ORDER BY id_no",
    ) == [
        ("A123456789", "312345678", "A123456789", "123456789"),
        ("A800000014", None, None, "987654321"),
        ("F231451893", None, None, None),
    ]
    assert rows(db, "SELECT unit_id, name FROM insured_units ORDER BY unit_id") == [
        ("123456789", "大安企業社"),
        ("987654321", "長春診所"),
    ]


def test_bad_document_and_unit_columns_are_reported_by_line(tmp_path: Path, db: Path) -> None:
    units = write(tmp_path, "units.csv", "unit_id,name", "12345678,short id", "123456789,ok")
    people = write(
        tmp_path,
        "people.csv",
        EXTRA_HEADER,
        CITIZEN + ",31234,123456789,",  # passport too short
        CITIZEN_2 + ",,555555555,",  # no such unit
        FOREIGNER + ",312345678,,",  # foreigners have no ROC passport
    )
    report = import_reference(db, people=people, units=units, today=TODAY)
    problems = [(p.file, p.line, p.column) for p in report.problems]
    assert problems == [
        ("units.csv", 2, "unit_id"),
        ("people.csv", 2, "passport_no"),
        ("people.csv", 3, "insured_unit"),
        ("people.csv", 4, "passport_no"),
    ]
    assert report.units_loaded == 1 and report.people_loaded == 0
    assert all("555555555" not in str(p) and "31234" not in str(p) for p in report.problems)


def test_an_unknown_column_is_still_refused(tmp_path: Path, db: Path) -> None:
    people = write(tmp_path, "people.csv", HEADER + ",favourite_colour", CITIZEN + ",blue")
    report = import_reference(db, people=people, today=TODAY)
    assert report.people_loaded == 0 and [p.line for p in report.problems] == [1]


def test_the_cli_takes_a_units_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    units = write(tmp_path, "units.csv", "unit_id,name", "123456789,大安企業社")
    assert import_main(["--data-dir", str(tmp_path / "data"), "--units", str(units)]) == 0
    assert "(1 insured units)" in capsys.readouterr().out


# An import in slices (PostgreSQL, `--writers N`): the same roster as one writer loads.
SLICE_1 = "citizen,B123456708,王大明,1985-03-04,M,B1234567,臺中市西屯區,福安里,7,,,"  # slice 1 of 2


def roster_state(url: str) -> tuple[list, list]:
    people = rows(url, "SELECT id_no, name, household_no FROM people ORDER BY id_no")
    cards = rows(
        url,
        "SELECT c.card_no, p.id_no, c.status FROM cards AS c JOIN people AS p USING (person_id)"
        " ORDER BY c.card_no",
    )
    return people, cards


def test_an_import_in_slices_loads_what_one_writer_loads(
    tmp_path: Path, postgres_url: str, postgres_server_url: str
) -> None:
    people = write(tmp_path, "people.csv", HEADER,
                   CITIZEN, SLICE_1, FOREIGNER.replace("1990-01-02", "1990-13-02"),
                   CITIZEN_2, SLICE_1.replace("王大明", "王小明"), FOREIGNER)  # fmt: skip
    cards = write(tmp_path, "cards.csv", CARDS_HEADER,
                  f"000000000001,A123456789,2010-01-01,{KEY}",
                  f"000000000002,B123456708,2012-01-01,{KEY}",
                  f"000000000003,B123456708,2020-01-01,{KEY_2}",
                  f"000000000004,Z999999999,2020-01-01,{KEY}",
                  f"000000000005,F231451893,2015-01-01,{KEY}")  # fmt: skip
    one = import_reference(postgres_url, people=people, cards=cards, today=TODAY)
    with fresh_schema(postgres_server_url) as sliced_url:
        two = import_reference(sliced_url, people=people, cards=cards, today=TODAY, writers=2)
        assert roster_state(sliced_url) == roster_state(postgres_url)
    assert (two.people_loaded, two.cards_loaded) == (one.people_loaded, one.cards_loaded) == (5, 4)
    assert [str(p) for p in two.problems] == [str(p) for p in one.problems]
    assert [(p.file, p.line) for p in two.problems] == [("people.csv", 4), ("cards.csv", 5)]
    assert ("B123456708", "王小明", "B1234567") in roster_state(postgres_url)[0]


def test_a_card_listed_for_people_in_two_slices_goes_to_one_of_them(
    tmp_path: Path, postgres_url: str
) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN, SLICE_1)
    cards = write(tmp_path, "cards.csv", CARDS_HEADER,
                  f"000000000007,A123456789,2010-01-01,{KEY}",
                  f"000000000007,B123456708,2012-01-01,{KEY_2}")  # fmt: skip
    report = import_reference(postgres_url, people=people, cards=cards, today=TODAY, writers=2)
    assert (report.people_loaded, report.cards_loaded) == (2, 1)
    (problem,) = report.problems
    assert (problem.column, problem.reason) == ("card_no", "already belongs to another person")
    ((owner,),) = rows(postgres_url, "SELECT p.id_no FROM cards JOIN people AS p USING (person_id)")
    assert owner == ("B123456708" if problem.line == 2 else "A123456789")


def test_a_card_number_taken_beside_a_slice_after_it_found_it_free_is_named(
    tmp_path: Path, postgres_url: str
) -> None:
    people = write(tmp_path, "people.csv", HEADER, CITIZEN, SLICE_1)
    import_reference(postgres_url, people=people, today=TODAY)
    ((first, _), (second, _)) = rows(
        postgres_url, "SELECT person_id, id_no FROM people ORDER BY id_no"
    )
    card = "000000000007"
    with (
        PgRoster.open(postgres_url, slice_of_import=True) as mine,
        PgRoster.open(postgres_url, slice_of_import=True) as beside,
        pytest.raises(CardNumberTaken),
        mine.transaction(),
    ):
        assert mine.card_owners([card]) == {}
        with beside.transaction():  # the other slice stores it and commits first
            beside.card_owners([card])
            beside.upsert_cards([RosterCard(card, second, date(2012, 1, 1), b"\x08" * 32)])
        mine.upsert_cards([RosterCard(card, first, date(2010, 1, 1), b"\x07" * 32)])
    # Rolled back: the card is the other slice's, and the next attempt sees it taken.
    owners = rows(postgres_url, "SELECT card_no, person_id FROM cards")
    assert owners == [(card, second)]
