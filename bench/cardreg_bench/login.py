"""`cardreg bench login`: the login path over HTTP against a running system.

Registers K wallet people (idempotent: a rerun logs in with the same derived passwords), then
drives challenge + login with C concurrent clients for a fixed time, and prints logins/s,
latency percentiles and errors beside the bare argon2id verify rate measured in the same run
on the same machine. A login is the whole card ceremony: a challenge, then the session.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx
from cardreg_gateway.agent.wallet import WalletEntry, load_wallet

from . import argon2_baseline


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="drive the login path over HTTP")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    p.add_argument("--wallet", type=Path, required=True, help="from `cardreg seed --wallet`")
    p.add_argument("--accounts", type=int, default=200, help="wallet people to register and use")
    p.add_argument("--clients", type=int, default=2 * (os.cpu_count() or 1))
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    p.add_argument("--baseline-seconds", type=float, default=5.0)
    p.set_defaults(run=lambda args: asyncio.run(run(args)))


def password_for(entry: WalletEntry) -> str:
    """A strong password derived from the card, so reruns can log in without state."""
    return "bench-" + hashlib.sha256(entry.card.card_no.encode()).hexdigest()[:16]


async def read_card(http: httpx.AsyncClient, entry: WalletEntry) -> dict:
    reply = await http.post("/api/v1/challenges")
    reply.raise_for_status()
    return entry.read(reply.json()["nonce"]).model_dump(mode="json")


async def register(http: httpx.AsyncClient, entry: WalletEntry) -> str:
    body = {"card": await read_card(http, entry), "password": password_for(entry), **entry.proof()}
    reply = await http.post("/api/v1/registrations", json=body)
    if reply.status_code == 201:
        return "registered"
    code = reply.json().get("error", {}).get("code", str(reply.status_code))
    return "kept" if code == "already_registered" else code


async def login(http: httpx.AsyncClient, entry: WalletEntry) -> str:
    body = {"card": await read_card(http, entry), "password": password_for(entry)}
    reply = await http.post("/api/v1/sessions", json=body)
    if reply.status_code == 201:
        return "ok"
    return reply.json().get("error", {}).get("code", str(reply.status_code))


async def drive(http: httpx.AsyncClient, people: list[WalletEntry], clients: int, duration: float):
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    turn = itertools.cycle(people)
    deadline = time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < deadline:
            entry = next(turn)
            started = time.perf_counter()
            try:
                outcome = await login(http, entry)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            if outcome == "ok":
                latencies.append(time.perf_counter() - started)
            outcomes[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, outcomes, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else (values[0] if values else float("nan"))
    )


async def run(args: argparse.Namespace) -> int:
    people = list(itertools.islice(load_wallet(args.wallet), args.accounts))
    if not people:
        print("the wallet is empty")
        return 1
    limits = httpx.Limits(
        max_connections=args.clients + 4, max_keepalive_connections=args.clients + 4
    )
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=30) as http:
        sem = asyncio.Semaphore(args.clients)

        async def register_one(entry: WalletEntry) -> str:
            async with sem:
                return await register(http, entry)

        results = await asyncio.gather(*(register_one(e) for e in people))
        print(f"accounts: {dict(Counter(results))}")
        usable = [e for e, r in zip(people, results) if r in ("registered", "kept")]
        if not usable:
            print("no account could be registered")
            return 1
        await drive(http, usable[: args.clients], args.clients, min(2.0, args.duration))  # warm-up
        latencies, outcomes, elapsed = await drive(http, usable, args.clients, args.duration)

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
