"""`cardreg bench scale`: the figures of running past one machine, in one run.

1. **Import**: N synthetic people and their cards written as CSV, then loaded by the real
   `cardreg import --database-url` (`COPY`) into a database of the bench's own; people/s and
   the time that projects for 23.5 million people.
2. **Lookups at N people**: the registry's accounts filled to N rows beside them, `cardreg up`
   on that database, and for wallet people registered through the API: identity's card check
   (`identity.card.verify` on the bus, as the registry sends it) and the registry lookup as a
   citizen makes it (`POST /api/v1/registrations/lookup`, gateway → registry → identity →
   accounts), p50 and p99. Each sample gets a fresh challenge first, outside the timing.
3. **Logins/s**: `cardreg bench login`'s load against sqlite, PostgreSQL with one replica of
   every service, and PostgreSQL with two (the clients split over both gateways).

The database is created on `--server-url` and dropped at the end (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg
from cardreg_agent.wallet import load_wallet
from cardreg_identity.domain.synthetic import SyntheticPeople
from cardreg_shared import bus
from cardreg_shared.models.common import CardRead, b64url_encode
from cardreg_shared.models.identity import CardVerifyRequest
from cardreg_shared.subjects import CARD_VERIFY
from psycopg import sql

from . import login
from .figures import percentile

CARDREG = Path(sys.executable).parent / "cardreg"
TAIWAN = 23_500_000
TARGET_MINUTES = 30
FOREIGNER_SHARE = 0.04
PEOPLE_HEADER = [
    "kind",
    "id_no",
    "name",
    "birth_date",
    "sex",
    "household_no",
    "township",
    "village",
    "neighborhood",
    "permit_issued_on",
    "permit_expires_on",
    "permit_serial_no",
    "passport_no",
    "driving_licence_no",
]


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scale", help="import rate, lookups at N people, logins with replicas")
    p.add_argument(
        "--server-url",
        default=os.environ.get(
            "CARDREG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="the PostgreSQL server; the bench makes (and drops) a database of its own there",
    )
    p.add_argument("--people", type=int, default=1_000_000, help="people to import")
    p.add_argument("--samples", type=int, default=300, help="timed lookups of each kind")
    p.add_argument("--wallet-people", type=int, default=60, help="seeded people to use")
    p.add_argument("--clients", type=int, default=3, help="concurrent login clients")
    p.add_argument("--login-seconds", type=float, default=15.0)
    p.add_argument("--skip-logins", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the database and the files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="cardreg-bench-scale-"))
    figures: list[str] = [f"cores {os.cpu_count()}, {args.people:,} people"]
    try:
        with bench_database(args.server_url, keep=args.keep) as db:
            figures.append(f"database {urlsplit(db).path.lstrip('/')}")
            figures += import_figures(work, db, args)
            with running(work / "pg", "--database-url", db) as system:
                fill_accounts(db, args.people)
                wallet = seed(work / "pg-wallet.jsonl", args.wallet_people, "--database-url", db)
                people = register(system.url, wallet)
                figures += asyncio.run(lookup_figures(system, people, args.samples))
                if not args.skip_logins:
                    figures.append(login_line("PostgreSQL, 1 replica", [system.url], people, args))
            if not args.skip_logins:
                extra = ("--database-url", db, "--replicas", "2")
                with running(work / "pg", *extra) as system:  # the same registry secret
                    urls = [system.url, system.url_of(1)]
                    figures.append(login_line("PostgreSQL, 2 replicas", urls, people, args))
        if not args.skip_logins:
            with running(work / "sqlite") as system:
                wallet = seed(
                    work / "sqlite-wallet.jsonl", args.wallet_people, "--data-dir", system.data
                )
                people = register(system.url, wallet)
                figures.append(login_line("sqlite, 1 replica", [system.url], people, args))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(figures))
    return 0


# --- the database ------------------------------------------------------------------------


@contextmanager
def bench_database(server_url: str, *, keep: bool) -> Iterator[str]:
    name = f"bench_scale_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        if keep:
            print(f"kept the database {name}")
        else:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def fill_accounts(db: str, count: int) -> None:
    """`count` accounts of people who are not in the wallet, so that a lookup searches a
    registry of that size (what the lookup reads: the person's row by its unique key)."""
    with psycopg.connect(db) as conn:
        conn.execute(
            "INSERT INTO registry.accounts (account_id, person_id, kind, id_no_masked, status,"
            " channel, created_at, updated_at)"
            " SELECT 'bench-acc-' || n, 'bench-person-' || n, 'citizen', 'A1******' || n %% 100,"
            " 'active', 'online', now(), now() FROM generate_series(1, %s) AS n",
            (count,),
        )
        conn.execute("ANALYZE registry.accounts")


# --- 1. the import -----------------------------------------------------------------------


def write_csv(work: Path, count: int) -> tuple[Path, Path]:
    """people.csv and cards.csv for `count` synthetic people (random 32-byte keys: nobody
    signs with these cards)."""
    rng = random.Random(2350)
    people = SyntheticPeople(rng, date.today())
    people_csv, cards_csv = work / "people.csv", work / "cards.csv"
    with (
        people_csv.open("w", newline="", encoding="utf-8") as p_out,
        cards_csv.open("w", newline="", encoding="utf-8") as c_out,
    ):
        p_rows, c_rows = csv.writer(p_out), csv.writer(c_out)
        p_rows.writerow(PEOPLE_HEADER)
        c_rows.writerow(("card_no", "id_no", "issued_on", "public_key"))
        for _ in range(count):
            made = people.make("foreigner" if rng.random() < FOREIGNER_SHARE else "citizen")
            person, household, permit = made.person, made.person.household, made.person.permit
            p_rows.writerow(
                (
                    person.kind, person.id_no, person.name, person.birth_date.isoformat(),
                    person.sex,
                    household.household_no if household else "",
                    household.township if household else "",
                    household.village if household else "",
                    household.neighborhood if household else "",
                    permit.issued_on.isoformat() if permit else "",
                    permit.expires_on.isoformat() if permit else "",
                    permit.serial_no if permit else "",
                    person.passport_no or "", person.driving_licence_no or "",
                )
            )  # fmt: skip
            key = b64url_encode(rng.randbytes(32))
            c_rows.writerow((made.card_no, person.id_no, made.card_issued_on.isoformat(), key))
    return people_csv, cards_csv


def import_figures(work: Path, db: str, args: argparse.Namespace) -> list[str]:
    started = time.perf_counter()
    people_csv, cards_csv = write_csv(work, args.people)
    written = time.perf_counter() - started
    command = [str(CARDREG), "import", "--database-url", db]
    command += ["--people", str(people_csv), "--cards", str(cards_csv)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"cardreg import failed:\n{result.stdout}\n{result.stderr[-2000:]}")
    # The import's own time, as it reports it (the command's start-up is not the import's).
    reported = re.search(r" in ([\d.]+) s;", result.stdout)
    seconds = float(reported.group(1)) if reported else seconds
    rate = args.people / seconds
    projected = TAIWAN / rate / 60
    verdict = "under" if projected < TARGET_MINUTES else "over"
    return [
        f"CSV written              {written:8.1f} s (not part of the import)",
        (
            f"import (COPY)            {seconds:8.1f} s  {rate:,.0f} people/s (with their "
            f"cards)  [{result.stdout.strip()}]"
        ),
        (
            f"projected for 23.5M      {projected:8.1f} min "
            f"({verdict} the {TARGET_MINUTES}-minute target)"
        ),
    ]


# --- running systems ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    def __init__(self, data: Path, port: int, log: Path) -> None:
        self.data = str(data)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def url_of(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.port + replica}"

    @property
    def nats_url(self) -> str:
        return re.findall(r"NATS:\s+(\S+)", self.log.read_text())[-1]


@contextmanager
def running(data: Path, *extra: str) -> Iterator[System]:
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data / "up.log"
    command = [str(CARDREG), "up", "--data-dir", str(data), "--http-port", str(port)]
    command += ["--operator-port", str(free_port()), *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while b"cardreg is up" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"cardreg up did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield System(data, port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(wallet: Path, count: int, *where: str) -> Path:
    subprocess.run(
        [str(CARDREG), "seed", *where, "--citizens", str(count), "--foreigners", "0",
         "--wallet", str(wallet)],
        check=True, capture_output=True,
    )  # fmt: skip
    return wallet


def register(url: str, wallet: Path) -> list[login.Person]:
    async def go() -> list[login.Person]:
        people = [login.Person(e) for e in load_wallet(wallet)]
        async with aiohttp.ClientSession(url) as http:
            api = login.Api(http)
            results = [await api.register(p) for p in people]
        return [p for p, r in zip(people, results, strict=True) if r in ("registered", "kept")]

    people = asyncio.run(go())
    if not people:
        raise SystemExit("no wallet person could register")
    return people


# --- 2. lookups --------------------------------------------------------------------------


async def lookup_figures(system: System, people: list[login.Person], samples: int) -> list[str]:
    root = Path(system.data) / "nats"
    tls = system.nats_url.startswith("tls://")
    credentials = bus.Credentials(
        password_file=root / "secrets" / "registry.password",
        ca_file=root / "tls" / "ca.crt" if tls else None,
    )
    nc = await bus.connect(system.nats_url, name="registry", credentials=credentials)
    verify: list[float] = []
    lookup: list[float] = []
    try:
        async with aiohttp.ClientSession(system.url) as http:
            api = login.Api(http)
            for person in itertools.islice(itertools.cycle(people), samples):
                card = CardRead.model_validate(await api.card(person))
                started = time.perf_counter()
                await bus.request(nc, CARD_VERIFY, CardVerifyRequest(card=card))
                verify.append(time.perf_counter() - started)

                card_body = await api.card(person)
                started = time.perf_counter()
                status, _ = await api.post("/api/v1/registrations/lookup", {"card": card_body})
                lookup.append(time.perf_counter() - started)
                if status != 200:
                    raise SystemExit(f"lookup answered {status}")
    finally:
        await nc.close()
    return [latency_line("identity card verify (bus)", verify),
            latency_line("registry lookup (HTTP)", lookup)]  # fmt: skip


def latency_line(what: str, values: list[float]) -> str:
    p50, p99 = percentile(values, 50), percentile(values, 99)
    return f"{what:<28} p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms  ({len(values)} samples)"


# --- 3. logins ---------------------------------------------------------------------------


def login_line(
    what: str, urls: list[str], people: list[login.Person], args: argparse.Namespace
) -> str:
    async def go() -> tuple[int, Counter[str], float, list[float]]:
        sessions = [aiohttp.ClientSession(url) for url in urls]
        try:
            apis = [login.Api(s) for s in sessions]
            share = [max(1, args.clients // len(apis) + (n < args.clients % len(apis)))
                     for n in range(len(apis))]  # fmt: skip
            await asyncio.gather(
                *(login.drive(api, people, c, 2.0) for api, c in zip(apis, share, strict=True))
            )  # warm-up
            results = await asyncio.gather(
                *(
                    login.drive(api, people, c, args.login_seconds)
                    for api, c in zip(apis, share, strict=True)
                )
            )
        finally:
            for s in sessions:
                await s.close()
        outcomes: Counter[str] = Counter()
        latencies: list[float] = []
        for lat, out, _ in results:
            latencies += lat
            outcomes += out
        elapsed = max(r[2] for r in results)
        return outcomes["ok"], outcomes, elapsed, latencies

    ok, outcomes, elapsed, latencies = asyncio.run(go())
    errors = sum(v for k, v in outcomes.items() if k != "ok")
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    return (
        f"logins/s, {what:<22} {ok / elapsed:6.1f}  p50 {p50 * 1e3:.0f} ms  p99 "
        f"{p99 * 1e3:.0f} ms  errors {errors}  ({args.clients} clients, {elapsed:.0f} s)"
    )
