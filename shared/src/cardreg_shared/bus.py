"""The thin bus layer every service uses, on nats-py.

- `connect()` joins the bus as one service: its own inbox prefix (eases permissions), and for
  long-running services reconnects without end behind a bounded reconnect buffer.
- `serve()` is a service process: the connection, the stop signals, start and stop around
  them, and leaving the bus at the end (`close()`: drain when connected, close otherwise).
- `request()` sends a typed request and returns the typed reply or raises `ServiceFailure`.
  Every failure of the bus itself (no responder, no reply in time, a connection closed or
  reconnecting) is `unavailable`, for every client alike (`unavailable()`); while the
  connection is down the answer comes at once, not after the timeout.
- `ServiceHost` (`host.py`) serves subjects; `ensure_streams`, `publish_event` and
  `publish_event_soon` are the JetStream side.
- `Credentials`: a service's password (from a file) and the CA it checks nats-server against.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import ssl
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck, RetentionPolicy, StreamConfig
from nats.js.errors import BadRequestError
from nats.micro.request import ERROR_CODE_HEADER
from nats.micro.service import ServiceVerb, control_subject
from pydantic import BaseModel, ValidationError

from . import logs, metrics
from .errors import ErrorCode, ServiceFailure
from .host import ServiceHost
from .metrics import MetricsEndpoint
from .models.common import ErrorReply
from .subjects import EventSubject, Rep, Req, Stream, Subject

__all__ = [
    "DEFAULT_TIMEOUT",
    "Credentials",
    "ServiceHost",
    "close",
    "connect",
    "ensure_streams",
    "publish_event",
    "publish_event_soon",
    "replicated",
    "request",
    "running",
    "serve",
    "service_answers",
    "unavailable",
    "wait_for_service",
    "wait_for_shutdown",
    "when_reconnected",
]

log = logging.getLogger("cardreg.bus")

DEFAULT_TIMEOUT = 5.0
# While the server is away, what a service publishes waits in this buffer (nats-py's), and
# goes out on reconnect; past it a publish fails at once instead of growing without bound.
RECONNECT_BUFFER_BYTES = 2 * 1024 * 1024
RECONNECT_WAIT_SECONDS = 0.5
# Failures of the bus itself, as nats-py raises them (its TimeoutError is asyncio's too).
BUS_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, asyncio.TimeoutError)

Hook = Callable[[], Awaitable[None]]
_reconnect_hooks: weakref.WeakKeyDictionary[Client, list[Hook]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Credentials:
    """What a service needs besides the URL on a locked-down bus (`CARDREG_NATS_PASSWORD_FILE`,
    `CARDREG_NATS_CA_FILE`).

    - `password_file`: the service's password (one line); the user is the connection's name,
      as every NATS user is named after its service. A file, not the environment or a command
      line, so that the secret shows in no `ps` output, environment dump or log.
    - `ca_file`: the CA that signed nats-server's certificate. TLS then starts with the first
      byte (`tls_handshake_first`): a server that cannot prove its certificate — something
      else listening on the port while nats-server restarts — never sees the password.
    """

    password_file: Path | None = None
    ca_file: Path | None = None

    def options(self, user: str) -> dict[str, Any]:
        """nats-py `connect()` options."""
        options: dict[str, Any] = {}
        if self.password_file is not None:
            secret = Path(self.password_file).read_text(encoding="utf-8").rstrip("\r\n")
            options.update(user=user, password=secret)
        if self.ca_file is not None:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            options.update(tls=context, tls_handshake_first=True)
        return options


async def connect(
    url: str,
    *,
    name: str,
    allow_reconnect: bool = True,
    credentials: Credentials | None = None,
    **options: Any,
) -> Client:
    """Connect as `name` to `url` (several servers of a cluster: comma-separated); replies
    come to a per-service inbox prefix (eases permissions).

    With `allow_reconnect` (services) the connection outlives any outage of the server: it
    retries for ever, every `RECONNECT_WAIT_SECONDS`; tests pass False to fail at once.
    With `credentials`, the user is `name` too. `options` go to `nats.connect` and override
    these defaults.
    """
    if credentials is not None:
        options = {**credentials.options(name), **options}
    nc = Client()
    outage = {"reported": False}

    async def on_error(exc: Exception) -> None:
        # Permission violations arrive here, not as exceptions. During an outage each retry
        # fails again: say it once, then quietly until the connection is back.
        if nc.is_connected or not outage["reported"]:
            log.warning("nats error: %s: %s", type(exc).__name__, exc)
            outage["reported"] = not nc.is_connected
        else:
            log.debug("nats error: %s", type(exc).__name__)

    async def on_disconnect() -> None:
        if not nc.is_closed:
            log.warning("disconnected from NATS; reconnecting")

    async def on_reconnect() -> None:
        outage["reported"] = False
        log.info("reconnected to NATS")
        # On tasks of their own: nats-py's reconnect waits for this callback, and a hook may
        # take a while (a restarted server recovers its streams first).
        for hook in list(_reconnect_hooks.get(nc, ())):
            task = asyncio.create_task(_run_hook(hook))
            _hook_tasks.add(task)
            task.add_done_callback(_hook_tasks.discard)

    settings: dict[str, Any] = {
        "name": name,
        "error_cb": on_error,
        "disconnected_cb": on_disconnect,
        "reconnected_cb": on_reconnect,
        "allow_reconnect": allow_reconnect,
        "inbox_prefix": f"_INBOX.{name}",
        "pending_size": RECONNECT_BUFFER_BYTES,
        "reconnect_time_wait": RECONNECT_WAIT_SECONDS,
        "max_reconnect_attempts": -1 if allow_reconnect else 0,
    }
    # A cluster's servers, comma-separated: nats-py tries each and follows the cluster.
    servers = [server.strip() for server in url.split(",") if server.strip()]
    await nc.connect(servers, **(settings | options))
    return nc


_hook_tasks: set[asyncio.Task[None]] = set()


async def _run_hook(hook: Hook) -> None:
    try:
        await hook()
    except Exception as exc:  # noqa: BLE001 - nobody awaits this task: log it here
        log.error("reconnect hook failed: %s", type(exc).__name__)


def when_reconnected(nc: Client, hook: Hook) -> Callable[[], None]:
    """Run `hook` each time `nc` (from `connect`) is back after an outage, e.g. to set up
    again what a restarted server may not have kept. Returns what takes the hook off again."""
    hooks = _reconnect_hooks.setdefault(nc, [])
    hooks.append(hook)
    return lambda: hooks.remove(hook) if hook in hooks else None


async def close(nc: Client) -> None:
    """Leave the bus at the end of a service's life: drain when connected (replies in flight
    go out), close otherwise. Never raises: a server that is gone is no reason to crash."""
    if nc.is_closed:
        return
    try:
        if nc.is_connected and not nc.is_draining:
            await nc.drain()
            return
    except BUS_ERRORS as exc:
        log.info("could not drain the NATS connection: %s", type(exc).__name__)
    try:
        await nc.close()
    except BUS_ERRORS as exc:
        log.info("could not close the NATS connection: %s", type(exc).__name__)


def unavailable(exc: BaseException, where: str) -> ServiceFailure:
    """The one mapping of a bus failure (no responders, timeout, closed or reconnecting
    connection, a full reconnect buffer) to an error code: `unavailable`, try again."""
    log.warning("bus failure on %s: %s", where, type(exc).__name__)
    return ServiceFailure(ErrorCode.UNAVAILABLE)


def require_connection(nc: Client) -> None:
    """Fail at once while the connection is down: nats-py would queue a request in its
    reconnect buffer and answer only after the whole timeout."""
    if not nc.is_connected:
        raise ServiceFailure(ErrorCode.UNAVAILABLE)


async def request(
    nc: Client, subject: Subject[Req, Rep], payload: Req, *, timeout: float = DEFAULT_TIMEOUT
) -> Rep:
    """Typed request: the reply model, or `ServiceFailure` with the responder's error."""
    if not isinstance(payload, subject.request):
        raise TypeError(f"{subject.name} takes {subject.request.__name__}")
    outcome = metrics.OK
    try:
        return await _request(nc, subject, payload, timeout)
    except ServiceFailure as failure:
        outcome = failure.code.value
        raise
    finally:
        metrics.BUS_CLIENT_REQUESTS.labels(subject.name, outcome).inc()


async def _request(nc: Client, subject: Subject[Req, Rep], payload: Req, timeout: float) -> Rep:
    require_connection(nc)
    try:
        msg = await nc.request(
            subject.name,
            payload.model_dump_json().encode(),
            timeout=timeout,
            headers=_correlation_headers(),
        )
    except BUS_ERRORS as exc:
        raise unavailable(exc, subject.name) from exc
    if msg.headers and ERROR_CODE_HEADER in msg.headers:
        raise _failure_from(msg.data, subject.name)
    try:
        return subject.reply.model_validate_json(msg.data)
    except ValidationError as exc:
        log.error("malformed reply on %s", subject.name)
        raise ServiceFailure(ErrorCode.INTERNAL) from exc


def _correlation_headers() -> dict[str, str] | None:
    """The current request's correlation id, for the service this one calls."""
    current = logs.correlation_id()
    return None if current is None else {logs.CORRELATION_HEADER: current}


def _failure_from(data: bytes, subject: str) -> ServiceFailure:
    try:
        return ErrorReply.model_validate_json(data).error.failure()
    except ValidationError:
        log.error("malformed error reply on %s", subject)
        return ServiceFailure(ErrorCode.INTERNAL)


def replicated(streams: Sequence[Stream], replicas: int) -> list[Stream]:
    """The streams with `replicas` copies each (R1 on one node, R3 on a three-node cluster)."""
    return [dataclasses.replace(stream, replicas=replicas) for stream in streams]


async def ensure_streams(js: JetStreamContext, streams: tuple[Stream, ...] | list[Stream]) -> None:
    """Create or update streams; idempotent, so every replica may call it at start-up."""
    for stream in streams:
        config = StreamConfig(
            name=stream.name,
            subjects=list(stream.subjects),
            description=stream.summary,
            retention=RetentionPolicy.WORK_QUEUE if stream.work_queue else RetentionPolicy.LIMITS,
            max_age=None if stream.max_age is None else stream.max_age.total_seconds(),
            num_replicas=stream.replicas,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)


def _event(subject: EventSubject, payload: BaseModel) -> bytes:
    if not isinstance(payload, subject.payload):
        raise TypeError(f"{subject.name} carries {subject.payload.__name__}")
    return payload.model_dump_json().encode()


async def publish_event(
    js: JetStreamContext, subject: EventSubject, payload: BaseModel, *, msg_id: str
) -> PubAck:
    """Publish to JetStream and wait for the ack; `msg_id` lets the stream drop a
    republished duplicate."""
    body = _event(subject, payload)
    return await js.publish(subject.name, body, headers={Header.MSG_ID: msg_id})


async def publish_event_soon(
    js: JetStreamContext,
    subject: EventSubject,
    payload: BaseModel,
    *,
    msg_id: str,
    ack_timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Hand an event to JetStream without waiting for its ack: whoever publishes it goes on at
    once. A refused or missing ack is logged with the subject, the id and the failure's type
    only; the event is lost then, never the caller's work."""
    body = _event(subject, payload)
    try:
        ack = await js.publish_async(
            subject.name,
            body,
            wait_stall=0.05,
            headers={Header.MSG_ID: msg_id, **(_correlation_headers() or {})},
        )
    except BUS_ERRORS as exc:
        log.warning("event %s on %s not published: %s", msg_id, subject.name, type(exc).__name__)
        return
    expiry = asyncio.get_running_loop().call_later(ack_timeout, ack.cancel)

    def settled(done: asyncio.Future[PubAck]) -> None:
        expiry.cancel()
        if done.cancelled():
            log.warning("event %s on %s: no ack in time", msg_id, subject.name)
        elif (exc := done.exception()) is not None:
            log.warning("event %s on %s refused: %s", msg_id, subject.name, type(exc).__name__)

    ack.add_done_callback(settled)


async def service_answers(nc: Client, name: str, *, timeout: float = 0.2) -> bool:
    """Does the `nats.micro` service `name` answer discovery (`$SRV.PING.<name>`)?"""
    if not nc.is_connected:
        return False
    try:
        await nc.request(control_subject(ServiceVerb.PING, name=name), b"", timeout=timeout)
    except BUS_ERRORS:
        return False
    return True


async def wait_for_service(
    nc: Client, name: str, *, alive: Callable[[], bool] = lambda: True, timeout: float = 30.0
) -> None:
    """Return once service `name` answers; RuntimeError if `alive()` turns false first (its
    process exited) or `timeout` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await service_answers(nc, name):
        if not alive():
            raise RuntimeError(f"{name} exited during start-up")
        if loop.time() > deadline:
            raise RuntimeError(f"{name} not ready after {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def wait_for_shutdown() -> None:
    """Return on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


class Running(Protocol):
    """A started service: `Identity`, `Registry`, `Mailer`, the gateway's HTTP server."""

    async def stop(self) -> None: ...


R = TypeVar("R", bound=Running)


@asynccontextmanager
async def running(
    name: str,
    url: str,
    start: Callable[[Client], Awaitable[R]],
    *,
    credentials: Credentials | None = None,
) -> AsyncIterator[R]:
    """A service in this process on its own connection, stopped on exit (tests, embedding):
    what `serve` does, without signals and without reconnects."""
    nc = await connect(url, name=name, allow_reconnect=False, credentials=credentials)
    try:
        service = await start(nc)
        try:
            yield service
        finally:
            await service.stop()
    finally:
        await close(nc)


async def serve(
    name: str,
    url: str,
    start: Callable[[Client], Awaitable[Running]],
    *,
    credentials: Credentials | None = None,
    metrics: MetricsEndpoint | None = None,
) -> int:
    """`python -m cardreg_<service>`: serve `metrics` (if given) for the whole life of the
    process, connect as `name` (with its `credentials` on a
    locked-down bus), `start(nc)`, serve until SIGTERM or SIGINT, `stop()`, leave the bus. A
    stop signal while the bus is still unreachable ends the process at once. A service may end
    by itself (its `serving` task, if it has one, ends): then it is stopped too and the exit
    status is 1."""
    service_log = logging.getLogger(f"cardreg.{name}")
    if metrics is None:
        return await _serve(name, url, start, credentials, service_log)
    try:
        metrics.start()
    except OSError as exc:
        service_log.error(
            "could not serve metrics on port %d: %s", metrics.port, type(exc).__name__
        )
        return 1
    try:
        return await _serve(name, url, start, credentials, service_log)
    finally:
        metrics.stop()


async def _serve(
    name: str,
    url: str,
    start: Callable[[Client], Awaitable[Running]],
    credentials: Credentials | None,
    service_log: logging.Logger,
) -> int:
    stopping = asyncio.create_task(wait_for_shutdown())
    connecting = asyncio.create_task(connect(url, name=name, credentials=credentials))
    await asyncio.wait({stopping, connecting}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        service_log.info("stopped before NATS was reachable")
        return 0
    try:
        nc = connecting.result()
    except (nats.errors.Error, OSError) as exc:
        # No URL in the log: it may carry credentials.
        service_log.error("could not connect to NATS: %s", type(exc).__name__)
        stopping.cancel()
        return 1
    status = 0
    try:
        service = await start(nc)
        try:
            service_log.info("ready")
            serving: asyncio.Future[Any] | None = getattr(service, "serving", None)
            waits: set[asyncio.Future[Any]] = {stopping} | ({serving} if serving else set())
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if not stopping.done():
                service_log.error("ended by itself; stopping")
                status = 1
            service_log.info("stopping")
        finally:
            await service.stop()
    finally:
        stopping.cancel()
        await close(nc)
    service_log.info("stopped")
    return status
