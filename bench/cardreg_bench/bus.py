"""`cardreg bench bus`: the paths off the hash, each beside its raw baseline, in one run.

Against a running `cardreg up` (its data dir gives the bus and the gateway's URL):

1. bus-only lookup: `registry.registration.lookup` over NATS as the gateway sends it (the
   registry asks identity in turn: two hops), N in flight, beside a raw nats-py two-hop echo
   (a client, a first responder that asks a second one, each in a process of its own, uvloop
   like the services) on a nats-server of the bench's own, over plain TCP (the system's
   bus is TLS unless `cardreg up --no-nats-tls`: run it so for a like-for-like ratio);
2. `POST /api/v1/challenges` beside a FastAPI hello world served with the gateway's uvicorn
   options (uvloop, httptools, no access log, no server header) in a process of its own;
3. the HTTP lookup (`POST /api/v1/registrations/lookup`: a challenge, then the card read),
   beside the bus-only lookup.

Every rate is requests per second of wall clock with a fixed number in flight; the machine's
foreign load over each measurement is printed beside it, since a wall-clock rate is only as
good as the quiet it was measured in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from cardreg import localbus
from cardreg_agent.wallet import load_wallet
from cardreg_shared import bus as shared_bus
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.registry import LookupRequest
from cardreg_shared.natsserver import start as start_nats
from cardreg_shared.subjects import REGISTRATION_LOOKUP

from . import procstat
from .login import Api, Person


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bus", help="bus and HTTP paths beside raw nats-py and FastAPI")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="of the running system")
    p.add_argument("--wallet", type=Path, required=True, help="from `cardreg seed --wallet`")
    p.add_argument("--in-flight", type=int, default=64)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    p.add_argument("--json", action="store_true", help="print one JSON document instead")
    p.set_defaults(run=lambda args: uvloop.run(run(args)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def rate(
    call: Callable[[], Awaitable[object]], in_flight: int, duration: float, system: dict[int, str]
) -> dict[str, float]:
    """Calls per second with `in_flight` callers, and the foreign load meanwhile."""
    await asyncio.gather(*(call() for _ in range(in_flight)))  # warm: connections, caches
    done = 0
    deadline = time.perf_counter() + duration

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    before, started = procstat.Snapshot.take(system), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    usage = procstat.Usage.between(before, procstat.Snapshot.take(system), elapsed)
    # CPU per call over every process taking part (the system's, the bench's own): unlike the
    # wall-clock rate, it barely moves with the neighbours' load.
    return {
        "per_s": done / elapsed,
        "cpu_ms_per_call": sum(usage.parts.values()) * 1e3 / done if done else float("nan"),
        "foreign_cores": usage.foreign_cores,
    }


# --- the raw baselines, each in processes of their own ------------------------------------

ECHO = """
import asyncio, sys, nats, uvloop
async def main(url, hop):
    nc = await nats.connect(url)
    if hop == "first":
        async def answer(msg):
            reply = await nc.request("bench.echo.second", msg.data, timeout=5)
            await msg.respond(reply.data)
        await nc.subscribe("bench.echo.first", queue="first", cb=answer)
    else:
        async def answer(msg):
            await msg.respond(msg.data)
        await nc.subscribe("bench.echo.second", queue="second", cb=answer)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()
uvloop.run(main(sys.argv[1], sys.argv[2]))
"""

HELLO = """
import sys, uvicorn, uvloop
from fastapi import FastAPI
app = FastAPI()
@app.post("/hello", status_code=201)
async def hello() -> dict:
    return {"hello": "world"}
config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="on",
                        log_config=None, access_log=False, server_header=False)
uvloop.run(uvicorn.Server(config).serve())
"""


def spawn(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def raw_echo(args: argparse.Namespace, system: dict[int, str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cardreg-bench-bus-") as work:
        server, url = start_nats(Path(work))
        hops = [spawn(ECHO, url, "second"), spawn(ECHO, url, "first")]
        ours = {**system, server.pid: "bench nats-server"} | {h.pid: "bench echo" for h in hops}
        try:
            for hop in hops:
                assert hop.stdout is not None
                if hop.stdout.readline().strip() != b"ready":
                    raise RuntimeError("an echo responder did not start")
            nc = await shared_bus.connect(url, name="bench", allow_reconnect=False)
            payload = secrets.token_bytes(400)  # about a lookup request's size
            try:
                return await rate(
                    lambda: nc.request("bench.echo.first", payload, timeout=10),
                    args.in_flight,
                    args.duration,
                    ours,
                )
            finally:
                await shared_bus.close(nc)
        finally:
            for hop in hops:
                stop(hop)
            server.terminate()
            server.wait(10)


async def hello_world(args: argparse.Namespace, system: dict[int, str]) -> dict[str, float]:
    port = free_port()
    proc = spawn(HELLO, str(port))
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            deadline = time.perf_counter() + 30
            while True:
                try:
                    async with http.post("/hello") as reply:
                        if reply.status == 201:
                            break
                except aiohttp.ClientError:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the hello world did not start") from None
                    await asyncio.sleep(0.1)

            async def hello() -> None:
                async with http.post("/hello") as reply:
                    await reply.read()

            ours = {**system, proc.pid: "bench hello world"}
            return await rate(hello, args.in_flight, args.duration, ours)
    finally:
        stop(proc)


# --- the system's own paths -----------------------------------------------------------------


async def system_paths(
    args: argparse.Namespace, people: list[Person], system: dict[int, str]
) -> dict[str, dict[str, float]]:
    announced = localbus.client(args.data_dir / "nats", "gateway")
    if announced is None:
        raise RuntimeError(f"no bus announced in {args.data_dir / 'nats'}")
    url, credentials = announced
    nc = await shared_bus.connect(url, name="gateway", credentials=credentials)
    # Over the bus the gateway has already used up the challenge: one signed read per
    # person serves every request.
    requests = [
        LookupRequest.model_validate({"card": p.card(b64url_encode(secrets.token_bytes(32)))})
        for p in people
    ]
    turn = 0

    def next_request() -> LookupRequest:
        nonlocal turn
        turn += 1
        return requests[turn % len(requests)]

    results: dict[str, dict[str, float]] = {}
    try:
        results["bus_lookup"] = await rate(
            lambda: shared_bus.request(nc, REGISTRATION_LOOKUP, next_request()),
            args.in_flight,
            args.duration,
            system,
        )
    finally:
        await shared_bus.close(nc)
    connector = aiohttp.TCPConnector(limit=args.in_flight + 4)
    async with aiohttp.ClientSession(args.url, connector=connector) as http:
        api = Api(http)

        async def challenge() -> None:
            status, _ = await api.post("/api/v1/challenges")
            if status != 201:
                raise RuntimeError(f"challenge answered {status}")

        people_turn = iter(range(1 << 62))

        async def http_lookup() -> None:
            person = people[next(people_turn) % len(people)]
            status, _ = await api.post(
                "/api/v1/registrations/lookup", {"card": await api.card(person)}
            )
            if status != 200:
                raise RuntimeError(f"lookup answered {status}")

        results["challenge"] = await rate(challenge, args.in_flight, args.duration, system)
        results["http_lookup"] = await rate(http_lookup, args.in_flight, args.duration, system)
    return results


def ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return a["per_s"] / b["per_s"] if b["per_s"] else float("nan")


def cpu_ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return b["cpu_ms_per_call"] / a["cpu_ms_per_call"] if a["cpu_ms_per_call"] else float("nan")


async def run(args: argparse.Namespace) -> int:
    people = [Person(e) for e, _ in zip(load_wallet(args.wallet), range(200), strict=False)]
    if not people:
        print("the wallet is empty", file=sys.stderr)
        return 1
    system = procstat.system_processes(args.data_dir)
    if not system:
        print(f"no process of a system runs for {args.data_dir}", file=sys.stderr)
        return 1
    ours = await system_paths(args, people, system)
    raw = {
        "raw_two_hop_echo": await raw_echo(args, system),
        "fastapi_hello": await hello_world(args, system),
    }
    figures = {**ours, **raw}
    ratios = {
        "bus_lookup/raw_two_hop_echo": ratio(ours["bus_lookup"], raw["raw_two_hop_echo"]),
        "challenge/fastapi_hello": ratio(ours["challenge"], raw["fastapi_hello"]),
        "http_lookup/bus_lookup": ratio(ours["http_lookup"], ours["bus_lookup"]),
    }
    # The same ratios from CPU per call (the baseline's CPU over ours): what the rates would
    # be on a machine of our own.
    cpu_ratios = {
        "bus_lookup/raw_two_hop_echo": cpu_ratio(ours["bus_lookup"], raw["raw_two_hop_echo"]),
        "challenge/fastapi_hello": cpu_ratio(ours["challenge"], raw["fastapi_hello"]),
        "http_lookup/bus_lookup": cpu_ratio(ours["http_lookup"], ours["bus_lookup"]),
    }
    report: dict[str, Any] = {
        "cores": os.cpu_count(),
        "in_flight": args.in_flight,
        "seconds": args.duration,
        "per_s": figures,
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.in_flight} in flight, {args.duration:.0f} s each, cores {os.cpu_count()}")
    names = {
        "bus_lookup": "bus-only lookup (NATS, 2 hops)",
        "raw_two_hop_echo": "raw nats-py two-hop echo",
        "challenge": "POST /api/v1/challenges",
        "fastapi_hello": "FastAPI hello world, same uvicorn",
        "http_lookup": "HTTP lookup (challenge + read)",
    }
    for key, name in names.items():
        f = figures[key]
        print(
            f"  {name:36} {f['per_s']:8.0f}/s  {f['cpu_ms_per_call']:6.3f} ms CPU/call  "
            f"(foreign load {f['foreign_cores']:.2f} cores)"
        )
    for key, value in ratios.items():
        print(
            f"  ratio {key:30} {value:6.2f}  (target >= 0.5; by CPU per call {cpu_ratios[key]:.2f})"
        )
    return 0
