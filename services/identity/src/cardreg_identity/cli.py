"""`cardreg seed` and `cardreg import`: the root `cardreg` command calls these with the
arguments after the subcommand. Wiring: the sqlite roster of identity.db (the service may be
running on the same file) -> the seed and import flows. Output carries counts and timings,
never personal data.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from cardreg_shared.postgres import redacted
from pydantic import ValidationError

from .adapters.card_keys import new_card_key
from .adapters.postgres_roster import PgRoster
from .adapters.reference_writer import SqliteRoster
from .adapters.schema import DEFAULT_BUSY_TIMEOUT_MS
from .flows.import_rows import Part
from .flows.ports import RosterWriter
from .flows.reference_import import ImportReport, broken_files, import_files, merged
from .flows.seed import SeedSummary, seed_people
from .settings import IdentitySettings

Database = Path | str  # identity.db, or a postgresql:// URL
MAX_DEFAULT_WRITERS = 4


def roster(
    database: Database, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> AbstractContextManager[RosterWriter]:
    if isinstance(database, str):
        return _reachable(database)
    return SqliteRoster.open(database, busy_timeout_ms=busy_timeout_ms)


@contextmanager
def _reachable(url: str) -> Iterator[PgRoster]:
    """The PostgreSQL roster, or a clear message (never the URL's password) when the server
    cannot be reached."""
    try:
        with PgRoster.open(url) as writer:
            yield writer
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"cardreg: the database at {redacted(url)} failed ({type(exc).__name__})"
        ) from None


def seed(
    database: Database, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **options: Any
) -> SeedSummary:
    """`cardreg seed` on the roster in `database` (options: `flows.seed.seed_people`)."""
    with roster(database, busy_timeout_ms=busy_timeout_ms) as writer:
        return seed_people(writer, new_card_key=new_card_key, **options)


def import_reference(
    database: Database,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    writers: int = 1,
    **options: Any,
) -> ImportReport:
    """`cardreg import` into the roster in `database` (options: `flows.reference_import`).
    On PostgreSQL, `writers` > 1 loads the people and cards in that many slices side by side,
    each in a process and on a connection of its own; sqlite has one writer."""
    if isinstance(database, str) and writers > 1:
        return _import_in_slices(database, writers, **options)
    with roster(database, busy_timeout_ms=busy_timeout_ms) as writer:
        return import_files(writer, **options)


def _import_in_slices(
    url: str,
    writers: int,
    *,
    people: Path | None = None,
    cards: Path | None = None,
    units: Path | None = None,
    **options: Any,
) -> ImportReport:
    """Checks and units here, on a connection that holds the import lock to the end (another
    import waits); then one process per slice of ID numbers. The parse of rows, Python's
    half of the work, then runs beside the server's on every core."""
    started = time.perf_counter()
    with _reachable(url) as first:
        first.hold_import_lock()
        report = import_files(first, units=units, **options)
        problems, people, cards = broken_files(people=people, cards=cards)
        report.problems += problems
        if people is None and cards is None:
            return merged(report, [], started)
        spawn = multiprocessing.get_context("spawn")  # no copy of this process's connection
        with ProcessPoolExecutor(writers, mp_context=spawn) as pool:
            loading = [
                pool.submit(_load_slice, url, Part(n, writers), people, cards, options)
                for n in range(writers)
            ]
            slices = [part.result() for part in loading]
    return merged(report, slices, started)


def _load_slice(
    url: str, part: Part, people: Path | None, cards: Path | None, options: dict[str, Any]
) -> ImportReport:
    """One slice of an import, in a process of its own."""
    with PgRoster.open(url, slice_of_import=True) as writer:
        return import_files(writer, people=people, cards=cards, only=part, **options)


def _database(data_dir: Path | None, url: str | None = None) -> tuple[Database, int]:
    """--database-url wins over CARDREG_IDENTITY_DATABASE_URL; else identity.db, where
    --data-dir wins over CARDREG_IDENTITY_DB_PATH, which wins over CARDREG_DATA_DIR."""
    try:
        settings = IdentitySettings() if url is None else IdentitySettings(database_url=url)
    except ValidationError as exc:
        raise SystemExit(f"cardreg: {exc.errors()[0]['msg']}") from None
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), settings.busy_timeout_ms
    path = data_dir / "identity.db" if data_dir is not None else settings.database
    return path, settings.busy_timeout_ms


def _where(database: Database) -> str:
    """For the summary line: the file, or the server without credentials."""
    return redacted(database) if isinstance(database, str) else str(database)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def seed_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cardreg seed",
        description="Create synthetic people and virtual cards in identity.db and write their wallet.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory of identity.db (default: $CARDREG_DATA_DIR or ./data)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL instead of identity.db (default: $CARDREG_IDENTITY_DATABASE_URL)",
    )
    parser.add_argument("--citizens", type=_count, default=0, metavar="N")
    parser.add_argument("--foreigners", type=_count, default=0, metavar="M")
    parser.add_argument(
        "--wallet",
        type=Path,
        required=True,
        metavar="FILE",
        help="JSON lines, one per person: card fields, card key, household or residence data",
    )
    parser.add_argument(
        "--append", action="store_true", help="add to the wallet instead of replacing it"
    )
    parser.add_argument(
        "--employers",
        type=_count,
        default=None,
        metavar="K",
        help="insured units to create (default: one per 20 people); most working-age people "
        "are insured through one",
    )
    args = parser.parse_args(argv)
    db_path, busy_timeout_ms = _database(args.data_dir, args.database_url)
    summary = seed(
        db_path,
        citizens=args.citizens,
        foreigners=args.foreigners,
        wallet=args.wallet,
        append=args.append,
        employers=args.employers,
        busy_timeout_ms=busy_timeout_ms,
    )
    print(
        f"seeded {summary.citizens} citizens, {summary.foreigners} foreign residents and "
        f"{summary.employers} employers "
        f"into {_where(db_path)} in {summary.seconds:.1f} s; wallet: {args.wallet}"
    )
    return 0


def import_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cardreg import",
        description="Load people and cards from CSV files into identity.db (see services/identity/README.md).",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory of identity.db (default: $CARDREG_DATA_DIR or ./data)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL instead of identity.db (default: $CARDREG_IDENTITY_DATABASE_URL)",
    )
    parser.add_argument("--people", type=Path, metavar="FILE", help="people CSV")
    parser.add_argument("--cards", type=Path, metavar="FILE", help="cards CSV")
    parser.add_argument(
        "--units", type=Path, metavar="FILE", help="insured units (employers) CSV: unit_id,name"
    )
    parser.add_argument(
        "--writers",
        type=_count,
        default=min(os.cpu_count() or 1, MAX_DEFAULT_WRITERS),
        metavar="N",
        help="PostgreSQL: load in N slices side by side, a process each (default: one per "
        f"core, at most {MAX_DEFAULT_WRITERS}); sqlite has one writer",
    )
    args = parser.parse_args(argv)
    if args.people is None and args.cards is None and args.units is None:
        parser.error("give --people, --cards, --units or several")
    for path in (args.people, args.cards, args.units):
        if path is not None and not path.is_file():
            parser.error(f"no such file: {path}")
    db_path, busy_timeout_ms = _database(args.data_dir, args.database_url)
    report = import_reference(
        db_path,
        people=args.people,
        cards=args.cards,
        units=args.units,
        busy_timeout_ms=busy_timeout_ms,
        writers=max(args.writers, 1),
    )
    for problem in report.problems:
        print(problem, file=sys.stderr)
    rejected_lines = len({(p.file, p.line) for p in report.problems})
    print(
        f"imported {report.people_loaded} people and {report.cards_loaded} cards "
        f"({report.units_loaded} insured units) into {_where(db_path)} "
        f"in {report.seconds:.1f} s; {rejected_lines} rows rejected"
    )
    return 1 if report.problems else 0
