"""`cardreg bench login`: the login path over HTTP against a running system.

Registers K wallet people (idempotent: a rerun logs in with the same derived passwords), then
drives challenge + login with C concurrent clients for a fixed time, and prints logins/s,
latency percentiles and errors beside the bare argon2id verify rate measured in the same run
on the same machine, just before and just after each load window, with the parameters the
running registry announces. A login is the whole card ceremony: a challenge, then the session.

Over each window it reads from /proc the CPU time of every process of the system (gateway,
registry, identity, mailer, nats-server, the supervisor), of the load client and of the whole
machine: CPU per login per process, and the foreign load (what processes outside the system
used), which says how far the window's wall-clock figures can be trusted.

The load client shares the machine with the system, so its own cost per login is kept small:
aiohttp on uvloop, each card's fields serialised once, its key loaded once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from cardreg import localbus
from cardreg.natsconfig import OPS
from cardreg_agent.wallet import WalletCard, load_wallet
from cardreg_shared import bus
from cardreg_shared.card import auth_message
from cardreg_shared.models.common import b64url_decode, b64url_encode
from nats.errors import Error as NatsError

from . import argon2_baseline, figures, procstat
from .argon2_baseline import HashParams


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="drive the login path over HTTP")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    p.add_argument("--wallet", type=Path, required=True, help="from `cardreg seed --wallet`")
    p.add_argument("--accounts", type=int, default=200, help="wallet people to register and use")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="the data dir of the running `cardreg up`: its bus (to ask the registry for its "
        "hash parameters) and its processes (for CPU per process)",
    )
    p.add_argument(
        "--clients",
        type=client_counts,
        default=[3],
        help="concurrent clients; a comma-separated list runs each in turn",
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load per window")
    p.add_argument("--repeat", type=int, default=1, help="windows per client count")
    p.add_argument(
        "--baseline-seconds",
        type=float,
        default=5.0,
        help="seconds of bare argon2id verifies before the first window and after each",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead")
    p.set_defaults(run=lambda args: uvloop.run(run(args)))


def password_for(entry: WalletCard) -> str:
    """A strong password derived from the card, so reruns can log in without state."""
    return "bench-" + hashlib.sha256(entry.card.card_no.encode()).hexdigest()[:16]


class Person:
    """A wallet entry ready to answer challenges cheaply."""

    def __init__(self, entry: WalletCard) -> None:
        self.entry = entry
        self.key = entry.private_key()
        self.fields = entry.card.model_dump(mode="json")
        self.password = password_for(entry)

    def card(self, nonce: str) -> dict:
        signature = self.key.sign(auth_message(b64url_decode(nonce), self.fields["card_no"]))
        return {**self.fields, "nonce": nonce, "signature": b64url_encode(signature)}


class Api:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        async with self.http.post(path, json=body) as reply:
            return reply.status, await reply.json(loads=json.loads, content_type=None)

    async def card(self, person: Person) -> dict:
        status, body = await self.post("/api/v1/challenges")
        if status != 201:
            raise RuntimeError(f"challenge answered {status}")
        return person.card(body["nonce"])

    async def register(self, person: Person) -> str:
        body = {
            "card": await self.card(person),
            "password": person.password,
            **person.entry.proof(),
        }
        status, reply = await self.post("/api/v1/registrations", body)
        if status == 201:
            return "registered"
        code = reply.get("error", {}).get("code", str(status))
        return "kept" if code == "already_registered" else code

    async def login(self, person: Person) -> str:
        body = {"card": await self.card(person), "password": person.password}
        status, reply = await self.post("/api/v1/sessions", body)
        return "ok" if status == 201 else reply.get("error", {}).get("code", str(status))


async def drive(api: Api, people: list[Person], clients: int, duration: float):
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    turn = itertools.cycle(people)
    deadline = time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                outcome = await api.login(next(turn))
            except (aiohttp.ClientError, RuntimeError) as exc:
                outcome = type(exc).__name__
            if outcome == "ok":
                latencies.append(time.perf_counter() - started)
            outcomes[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, outcomes, time.perf_counter() - started


def client_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("client counts are positive integers, e.g. 2,4")
    return counts


async def registry_hash_params(data_dir: Path) -> HashParams:
    """Ask the running registry which argon2id parameters it hashes with."""
    announced = localbus.client(data_dir / "nats", OPS)
    if announced is None:
        raise RuntimeError(f"no bus announced in {data_dir / 'nats'}: is `cardreg up` running?")
    url, credentials = announced
    nc = await bus.connect(url, name=OPS, credentials=credentials, allow_reconnect=False)
    try:
        reply = await nc.request("$SRV.INFO.registry", b"", timeout=5)
    finally:
        await bus.close(nc)
    return HashParams.from_metadata(json.loads(reply.data).get("metadata") or {})


@dataclass(frozen=True)
class Baseline:
    verify_per_s: float  # all cores
    foreign_cores: float  # the foreign load meanwhile (ideally none)
    hash: argon2_baseline.OneHash  # one verify on one thread

    def as_dict(self) -> dict[str, float]:
        return {
            "verify_per_s": self.verify_per_s,
            "foreign_cores": self.foreign_cores,
            "one_hash_wall_ms": self.hash.wall * 1e3,
            "one_hash_cpu_ms": self.hash.cpu * 1e3,
        }


def measured_baseline(params: HashParams, seconds: float, system: dict[int, str]) -> Baseline:
    """The bare verify rate and one hash's cost, with the foreign load while they ran."""
    before, started = procstat.Snapshot.take(system), time.perf_counter()
    one = argon2_baseline.one_hash(params, samples=10)
    rate = argon2_baseline.verify_rate(params, seconds)
    usage = procstat.Usage.between(
        before, procstat.Snapshot.take(system), time.perf_counter() - started
    )
    return Baseline(rate, usage.foreign_cores, one)


async def run(args: argparse.Namespace) -> int:
    try:
        params = await registry_hash_params(args.data_dir)
    except (RuntimeError, ValueError, OSError, NatsError) as exc:
        print(f"cannot ask the registry for its hash parameters: {exc}", file=sys.stderr)
        return 1
    system = procstat.system_processes(args.data_dir)
    if not system:
        print(f"no process of a system runs for {args.data_dir}", file=sys.stderr)
        return 1
    people = [Person(e) for e in itertools.islice(load_wallet(args.wallet), args.accounts)]
    if not people:
        print("the wallet is empty", file=sys.stderr)
        return 1
    most = max(args.clients)
    timeout = aiohttp.ClientTimeout(total=30)

    def session() -> aiohttp.ClientSession:
        # A fresh one per window: connections idle through a baseline are closed by the
        # server's keep-alive timeout, and reusing one would fail the window's first logins.
        connector = aiohttp.TCPConnector(limit=most + 4)
        return aiohttp.ClientSession(args.url, connector=connector, timeout=timeout)

    windows: list[dict[str, Any]] = []
    baselines: list[dict[str, float]] = []
    async with session() as http:
        api = Api(http)
        sem = asyncio.Semaphore(most)

        async def register_one(person: Person) -> str:
            async with sem:
                return await api.register(person)

        results = await asyncio.gather(*(register_one(p) for p in people))
    accounts = dict(Counter(results))
    usable = [p for p, r in zip(people, results, strict=True) if r in ("registered", "kept")]
    if not usable:
        print(f"no account could be registered: {accounts}", file=sys.stderr)
        return 1
    previous = measured_baseline(params, args.baseline_seconds, system)
    baselines.append(previous.as_dict())
    for clients in args.clients:
        for _ in range(args.repeat):
            system = procstat.system_processes(args.data_dir)  # a child may have restarted
            async with session() as http:
                api = Api(http)
                await drive(api, usable, clients, min(2.0, args.duration))  # warm-up
                before = procstat.Snapshot.take(system)
                latencies, outcomes, elapsed = await drive(api, usable, clients, args.duration)
                usage = procstat.Usage.between(before, procstat.Snapshot.take(system), elapsed)
            after = measured_baseline(params, args.baseline_seconds, system)
            baselines.append(after.as_dict())
            window = figures.Window(
                clients=clients,
                elapsed=elapsed,
                latencies=latencies,
                errors={k: v for k, v in outcomes.items() if k != "ok"},
                usage=usage,
                bare_before=previous.verify_per_s,
                bare_after=after.verify_per_s,
                # One hash costs more CPU on a busier machine (shared caches): the mean of
                # the measurements on either side of the window.
                hash_wall=(previous.hash.wall + after.hash.wall) / 2,
                hash_cpu=(previous.hash.cpu + after.hash.cpu) / 2,
            )
            windows.append(window.summary())
            if not args.json:
                print(figures.table(windows[-1]), flush=True)
            previous = after
    report = {
        "cores": os.cpu_count(),
        "accounts": accounts,
        "hash_params": params.as_dict(),
        "baselines": baselines,
        "windows": windows,
        "by_clients": {
            str(c): figures.over_repetitions([w for w in windows if w["clients"] == c])
            for c in args.clients
        },
    }
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(f"cores {os.cpu_count()}, registry hashes with argon2id {params.describe()}")
        for c, over in report["by_clients"].items():
            print(f"clients {c}: {figures.spread_line(over)}")
    return 0
