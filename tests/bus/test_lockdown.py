"""The locked-down bus on a real nats-server, in the four configurations that ship: the one
`cardreg up` generates (with and without TLS) and the two deploy/ commits (plain and TLS,
passwords from the environment as compose gives them).

Every user is tried against every other service's subjects. A denied subscription or publish
reaches the client only through its `error_cb`, so each negative check waits for that report;
the positive checks (a request answered on the caller's own inbox) show that the rules deny
what they should and not everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from cardreg import localbus, natsconfig, natsserver, natstls
from cardreg_shared import bus
from cardreg_shared.models.common import Empty
from cardreg_shared.models.mail import MailerStatsReply
from cardreg_shared.subjects import MAILER_STATS, owned_by
from nats.aio.client import Client
from nats.errors import Error as NatsError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = natsconfig.SERVICES
VIOLATION_WAIT = 2.0


@dataclass
class SecuredBus:
    """A running nats-server under one of the shipped configurations."""

    url: str
    passwords: dict[str, str]
    ca_file: Path | None
    log: Path

    def options(self, user: str | None, password: str | None = None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if user is not None:
            options.update(user=user, password=password or self.passwords[user])
        if self.ca_file is not None:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            options.update(tls=context, tls_handshake_first=True)
        return options

    def violations(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if "Violation" in line]


def _serve(tmp: Path, config: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    ports = tmp / "ports"
    ports.mkdir(exist_ok=True)
    argv = natsserver.argv(tmp, config=config, ports_dir=ports, log_file=tmp / "nats.log")
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _url(proc: subprocess.Popen, tmp: Path) -> str:
    deadline = time.monotonic() + 10
    while (url := natsserver.url_of(tmp / "ports", proc.pid)) is None:
        assert proc.poll() is None, (tmp / "nats.log").read_text()[-800:]
        assert time.monotonic() < deadline, "nats-server wrote no port"
        time.sleep(0.005)
    return url


def _committed(name: str, tmp: Path, **replace: str) -> Path:
    """The committed deploy config, with only what cannot work outside a container changed:
    the store dir, the monitor port (a fixed one) and, for TLS, the certificate paths."""
    text = (DEPLOY / "nats" / name).read_text()
    for old, new in {
        '"/data/jetstream"': f'"{tmp / "js"}"',
        'http: "0.0.0.0:8222"\n': "",
        **replace,
    }.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp / name
    path.write_text(text)
    return path


CONFIGS = ("cardreg up", "cardreg up --no-nats-tls", "deploy", "deploy with TLS")


@pytest.fixture(params=CONFIGS)
def secured(request, tmp_path: Path) -> Iterator[SecuredBus]:
    kind = request.param
    env = None
    if kind.startswith("cardreg up"):
        prepared = localbus.prepare(tmp_path / "nats", tls="--no-nats-tls" not in kind)
        config = prepared.config
        passwords = {u: prepared.password_file(u).read_text().strip() for u in localbus.USERS}
        ca_file = prepared.tls.ca_cert if prepared.tls else None
    else:
        passwords = {u: f"{u}-{os.urandom(6).hex()}" for u in localbus.USERS}
        env = {natsconfig.password_var(u): p for u, p in passwords.items()}
        if kind == "deploy":
            config, ca_file = _committed("nats-server.conf", tmp_path), None
        else:
            natstls.ensure_ca(tmp_path / "tls")
            files = natstls.issue_server_cert(tmp_path / "tls", ["127.0.0.1"])
            config = _committed(
                "nats-server-tls.conf",
                tmp_path,
                **{
                    '"/etc/nats/tls/server.crt"': f'"{files.server_cert}"',
                    '"/etc/nats/tls/server.key"': f'"{files.server_key}"',
                },
            )
            ca_file = files.ca_cert
    proc = _serve(tmp_path, config, env)
    try:
        yield SecuredBus(_url(proc, tmp_path), passwords, ca_file, tmp_path / "nats.log")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Conn:
    """A connection as one user, collecting the permission errors the server reports."""

    def __init__(self, nc: Client, errors: asyncio.Queue[Exception]) -> None:
        self.nc = nc
        self.errors = errors

    async def violation(self) -> str:
        return str(await asyncio.wait_for(self.errors.get(), VIOLATION_WAIT)).lower()


@pytest.fixture
async def connect(secured: SecuredBus) -> AsyncIterator:
    conns: list[Client] = []

    async def as_user(user: str) -> Conn:
        errors: asyncio.Queue[Exception] = asyncio.Queue()

        async def on_error(exc: Exception) -> None:
            errors.put_nowait(exc)

        nc = await nats.connect(
            secured.url,
            name=user,
            inbox_prefix=f"_INBOX.{user}",
            error_cb=on_error,
            allow_reconnect=False,
            **secured.options(user),
        )
        conns.append(nc)
        return Conn(nc, errors)

    yield as_user
    for nc in conns:
        await nc.close()


async def _refused(url: str, **options: Any) -> None:
    nc = Client()  # not nats.connect(): a failed connect leaves its socket for us to close
    try:
        with pytest.raises((NatsError, OSError, TimeoutError)):
            await nc.connect(url, allow_reconnect=False, connect_timeout=2, **options)
    finally:
        with contextlib.suppress(OSError):  # the server may have reset the socket
            await nc.close()


async def test_anonymous_and_wrong_passwords_are_refused(secured: SecuredBus):
    await _refused(secured.url, **secured.options(None))  # no user at all
    await _refused(secured.url, **secured.options("gateway", "not-its-password"))
    await _refused(secured.url, **secured.options("gateway", secured.passwords["registry"]))
    if secured.ca_file is not None:
        # Right password, but without TLS: refused before the password would be sent.
        await _refused(secured.url, user="ops", password=secured.passwords["ops"])


async def test_each_service_may_touch_only_its_own_subjects(secured: SecuredBus, connect):
    for user in (*SERVICES, natsconfig.OPS):
        me = await connect(user)
        await me.nc.subscribe(">")
        assert 'subscription to ">"' in await me.violation(), user
        for other in SERVICES:
            if other == user:
                continue
            for subject in owned_by(other)[:2]:
                # Neither its queue group (answering its requests) nor a plain subscription.
                await me.nc.subscribe(subject.name, queue=other)
                assert f'subscription to "{subject.name}"' in await me.violation(), user
                await me.nc.subscribe(subject.name)
                assert f'subscription to "{subject.name}"' in await me.violation(), user
            await me.nc.subscribe(f"_INBOX.{other}.>")  # its request replies
            assert f'subscription to "_inbox.{other}.>"' in await me.violation(), user
        if user != "registry":  # the registry's outbox is the only way into the mail stream
            await me.nc.publish("mail.password_reset", b"{}")
            assert 'publish to "mail.password_reset"' in await me.violation(), user


async def test_own_subjects_outside_the_queue_group_are_refused(connect):
    for user in ("identity", "registry", "mailer"):
        me = await connect(user)
        subject = owned_by(user)[0].name
        await me.nc.subscribe(subject)  # would see every request, not its share
        assert f'subscription to "{subject}"' in await me.violation()


async def test_replies_reach_the_caller_only(secured: SecuredBus, connect):
    """The mailer answers ops on `_INBOX.ops...`; the gateway, trying to listen on every
    inbox, is refused and hears nothing."""
    served = await bus.connect(
        secured.url, name="mailer", allow_reconnect=False, **secured.options("mailer")
    )
    host = bus.ServiceHost(served, name="mailer", version="0.0.0", description="test")

    async def stats(_: Empty) -> MailerStatsReply:
        return MailerStatsReply(sent=1, duplicates_skipped=0, retries=0, dead_lettered=0)

    host.add(MAILER_STATS, stats)
    await host.start()
    try:
        snoop = await connect("gateway")
        overheard: list[bytes] = []

        async def keep(msg) -> None:
            overheard.append(msg.data)

        await snoop.nc.subscribe("_INBOX.>", cb=keep)
        assert 'subscription to "_inbox.>"' in await snoop.violation()
        ops = await connect("ops")
        reply = await bus.request(ops.nc, MAILER_STATS, Empty(), timeout=2)
        assert reply.sent == 1
        await snoop.nc.flush()
        assert overheard == []
    finally:
        await host.stop()
        await served.close()
    assert all("gateway" in line for line in secured.violations())


async def test_a_server_with_another_ca_never_gets_the_password(tmp_path: Path):
    """What `cardreg up`'s services do when something else holds the port: a server with a
    certificate from another CA fails the handshake, before any credential is sent."""
    ours = localbus.prepare(tmp_path / "ours", tls=True)
    theirs = localbus.prepare(tmp_path / "theirs", tls=True)  # same users, other passwords
    proc = _serve(tmp_path, theirs.config)
    try:
        url = _url(proc, tmp_path)
        with pytest.raises((ssl.SSLError, NatsError, OSError)):
            await bus.connect(
                url, name="gateway", credentials=ours.credentials("gateway"), allow_reconnect=False
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "authentication error" not in (tmp_path / "nats.log").read_text()
