"""`cardreg bench mail`: the mailer's throughput beside the bare SMTP send rate, same run.

Starts its own pieces: an aiosmtpd sink that counts what it accepts (in a process of its own,
so it does not share an interpreter with the sender being measured) and a nats-server locked
down as `cardreg up`'s is (the bench publishes as the registry and reads the counters as ops),
over plain TCP on the loopback. Then:

1. raw: aiosmtplib over C reused connections sends N messages built as the mailer builds
   them (rendered templates, multipart/alternative), built beforehand;
2. mailer: `python -m cardreg_mailer` with C connections; N password-reset requests are
   published to the MAIL stream, timed until the sink holds all N.

It prints both rates, their ratio and the cost of building one message.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import aiosmtplib
from cardreg import localbus, natsserver
from cardreg_mailer.adapters.templates import TemplateRenderer
from cardreg_mailer.domain.envelope import OutgoingMail, compose, from_header
from cardreg_shared import bus
from cardreg_shared.models.common import Empty
from cardreg_shared.models.mail import PasswordResetMail
from cardreg_shared.subjects import (
    MAIL_PASSWORD_RESET,
    MAIL_STREAM,
    MAILER_STATS,
)
from nats.js.api import Header

MAIL_FROM = "cardreg <no-reply@cardreg.localhost>"
SENDER = "no-reply@cardreg.localhost"


def parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mail", help="mailer throughput vs bare SMTP sends, local sink")
    p.add_argument("--messages", type=int, default=2000, help="mails per measurement")
    p.add_argument("--connections", type=int, default=4, help="SMTP connections")
    p.set_defaults(run=lambda args: asyncio.run(run(args)))


# --- the sink: its own process, counting accepted mails in shared memory -----------------


class CountingHandler:
    def __init__(self, accepted: Synchronized) -> None:
        self.accepted = accepted

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.accepted.get_lock():
            self.accepted.value += 1
        return "250 2.0.0 accepted"


def serve_sink(port: int, accepted: Synchronized, ready) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(
        CountingHandler(accepted), hostname="127.0.0.1", port=port, server_hostname="sink.bench"
    )
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


# --- requests and messages as the mailer makes them ----------------------------------------


def requests(n: int) -> list[PasswordResetMail]:
    now = datetime.now(UTC)
    return [
        PasswordResetMail(
            request_id=secrets.token_urlsafe(18),
            to=f"person{i}@example.com",
            requested_at=now,
            reset_url=f"https://portal.example/reset?token={secrets.token_urlsafe(32)}",
            expires_in_minutes=30,
        )
        for i in range(n)
    ]


def build(mails: list[PasswordResetMail]) -> tuple[list[tuple[str, OutgoingMail]], float]:
    renderer = TemplateRenderer()
    renderer.load_all()
    sender = from_header(MAIL_FROM)
    started = time.perf_counter()
    messages = [(m.to, compose(m, renderer.render(m), sender)) for m in mails]
    return messages, (time.perf_counter() - started) / len(mails)


async def raw_rate(messages: list[tuple[str, OutgoingMail]], port: int, connections: int) -> float:
    queue = iter(messages)

    async def sender() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench")
        await client.connect()
        try:
            for recipient, mail in queue:
                await client.sendmail(SENDER, [recipient], mail.data)
        finally:
            await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return len(messages) / (time.perf_counter() - started)


# --- the mailer from the stream ------------------------------------------------------------


async def mailer_rate(
    mails: list[PasswordResetMail],
    smtp_port: int,
    connections: int,
    accepted: Synchronized,
    work: Path,
) -> tuple[float, float, dict]:
    secured = localbus.prepare(work / "nats", tls=False)
    nats_proc, url = natsserver.start(work / "nats", config=secured.config)
    env = {
        **os.environ,
        "CARDREG_NATS_URL": url,
        **secured.env("mailer"),
        "CARDREG_DATA_DIR": str(work / "mailer"),
        "CARDREG_MAILER_SMTP_HOST": "127.0.0.1",
        "CARDREG_MAILER_SMTP_PORT": str(smtp_port),
        "CARDREG_MAILER_CONNECTIONS": str(connections),
        "CARDREG_MAILER_SMTP_LOCAL_HOSTNAME": "bench",
        "CARDREG_LOG_LEVEL": "WARNING",
    }
    mailer = await asyncio.create_subprocess_exec(sys.executable, "-m", "cardreg_mailer", env=env)
    # The registry's part (publishing mail requests) and the operator's (the counters).
    nc = await bus.connect(
        url, name="registry", credentials=secured.credentials("registry"), allow_reconnect=False
    )
    ops = await bus.connect(
        url, name="ops", credentials=secured.credentials("ops"), allow_reconnect=False
    )
    try:
        js = nc.jetstream()
        await bus.ensure_streams(js, [MAIL_STREAM])  # the mailer creates MAIL_DEAD itself
        await _ready(ops, mailer)
        bodies = [(m.request_id, m.model_dump_json().encode()) for m in mails]
        base = accepted.value
        started = time.perf_counter()
        await _publish_all(js, bodies)
        published = time.perf_counter() - started
        await wait_until(lambda: accepted.value - base >= len(mails), 600, "the mailer's mail")
        elapsed = time.perf_counter() - started
        stats = (await bus.request(ops, MAILER_STATS, Empty())).model_dump()
    finally:
        await bus.close(ops)
        await bus.close(nc)
        if mailer.returncode is None:
            mailer.send_signal(signal.SIGTERM)
            await asyncio.wait_for(mailer.wait(), 30)
        nats_proc.terminate()
        nats_proc.wait(timeout=10)
    return len(mails) / elapsed, published, stats


async def _ready(nc, proc) -> None:
    await bus.wait_for_service(nc, "mailer", alive=lambda: proc.returncode is None)


async def _publish_all(js, bodies: list[tuple[str, bytes]], in_flight: int = 256) -> None:
    slots = asyncio.Semaphore(in_flight)

    async def one(msg_id: str, body: bytes) -> None:
        async with slots:
            await js.publish(MAIL_PASSWORD_RESET.name, body, headers={Header.MSG_ID: msg_id})

    await asyncio.gather(*(one(i, b) for i, b in bodies))


async def run(args: argparse.Namespace) -> int:
    if args.messages < 1 or args.connections < 1:
        print("--messages and --connections must be at least 1")
        return 2
    n, c = args.messages, args.connections
    spawn = multiprocessing.get_context("spawn")
    accepted = spawn.Value("q", 0)
    ready = spawn.Event()
    port = free_port()
    sink = spawn.Process(target=serve_sink, args=(port, accepted, ready), daemon=True)
    sink.start()
    try:
        if not ready.wait(30):
            print("the SMTP sink did not start")
            return 1
        messages, build_s = build(requests(n))
        await raw_rate(messages[: min(n, 200)], port, c)  # warm-up
        raw = await raw_rate(messages, port, c)
        with tempfile.TemporaryDirectory(prefix="cardreg-bench-mail-") as work:
            rate, published, stats = await mailer_rate(requests(n), port, c, accepted, Path(work))
    finally:
        sink.terminate()
        sink.join(10)

    print(f"messages {n}, connections {c}, cores {os.cpu_count()}")
    print(f"build one message        {build_s * 1e6:8.0f} µs  (render + compose)")
    print(f"raw aiosmtplib sends/s   {raw:8.0f}  (prebuilt, reused connections)")
    print(f"mailer from the stream/s {rate:8.0f}  (publish took {published * 1e3:.0f} ms)")
    print(f"ratio mailer/raw         {rate / raw:8.2f}")
    print(f"mailer counters          {stats}")
    return 0
