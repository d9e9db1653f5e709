"""`cardreg bench login`: the login path over HTTP against a running system.

Registers K wallet people (idempotent: a rerun logs in with the same derived passwords), then
drives challenge + login with C concurrent clients for a fixed time, and prints logins/s,
latency percentiles and errors beside the bare argon2id verify rate measured in the same run
on the same machine. A login is the whole card ceremony: a challenge, then the session.

The load client shares the machine with the system, so its own cost per login is kept small:
aiohttp, each card's fields serialised once, its key loaded once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import aiohttp
from cardreg_agent.wallet import WalletCard, load_wallet
from cardreg_shared.card import auth_message
from cardreg_shared.models.common import b64url_decode, b64url_encode

from . import argon2_baseline


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="drive the login path over HTTP")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    p.add_argument("--wallet", type=Path, required=True, help="from `cardreg seed --wallet`")
    p.add_argument("--accounts", type=int, default=200, help="wallet people to register and use")
    p.add_argument("--clients", type=int, default=3, help="concurrent clients")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    p.add_argument("--baseline-seconds", type=float, default=5.0)
    p.set_defaults(run=lambda args: asyncio.run(run(args)))


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


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run(args: argparse.Namespace) -> int:
    people = [Person(e) for e in itertools.islice(load_wallet(args.wallet), args.accounts)]
    if not people:
        print("the wallet is empty")
        return 1
    connector = aiohttp.TCPConnector(limit=args.clients + 4)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(args.url, connector=connector, timeout=timeout) as http:
        api = Api(http)
        sem = asyncio.Semaphore(args.clients)

        async def register_one(person: Person) -> str:
            async with sem:
                return await api.register(person)

        results = await asyncio.gather(*(register_one(p) for p in people))
        print(f"accounts: {dict(Counter(results))}")
        usable = [p for p, r in zip(people, results, strict=True) if r in ("registered", "kept")]
        if not usable:
            print("no account could be registered")
            return 1
        await drive(api, usable, args.clients, min(2.0, args.duration))  # warm-up
        latencies, outcomes, elapsed = await drive(api, usable, args.clients, args.duration)

    hash_s = argon2_baseline.one_hash_seconds()
    bare = argon2_baseline.verify_rate(args.baseline_seconds)
    rate = outcomes["ok"] / elapsed
    p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
    errors = {k: v for k, v in outcomes.items() if k != "ok"}
    print(f"clients {args.clients}, {elapsed:.1f} s, cores {os.cpu_count()}")
    print(f"logins/s            {rate:8.1f}")
    print(f"latency p50/p95/p99 {p50 * 1e3:6.1f} / {p95 * 1e3:.1f} / {p99 * 1e3:.1f} ms")
    print(f"errors              {sum(errors.values())} {errors or ''}")
    print(f"argon2id verify/s   {bare:8.1f}  (bare, all cores, m=19456 KiB t=2 p=1)")
    print(f"one hash            {hash_s * 1e3:8.1f} ms")
    print(f"ratio logins/bare   {rate / bare:8.2f}  (target >= 0.85)")
    print(f"p99 / one hash      {p99 / hash_s:8.2f}  (target < 3)")
    return 0
