"""The thin bus layer every service uses, on nats-py and `nats.micro`.

- `request()` sends a typed request and returns the typed reply or raises `ServiceFailure`.
- `ServiceHost` serves subjects: each request runs in its own task behind a bound, and every
  request gets a reply — a typed error, or `internal` with a correlation id. Never a timeout,
  never an exception's repr.
- Subscriptions are flushed before `start()` returns; `stop()` drains them and lets in-flight
  handlers reply before the connection closes.
- `Credentials`: a service's password (from a file) and the CA it checks nats-server against.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StreamConfig
from nats.js.errors import BadRequestError
from nats.micro import add_service
from nats.micro.request import ERROR_CODE_HEADER, ERROR_HEADER, Request
from pydantic import BaseModel, ValidationError

from .errors import ErrorCode, ServiceFailure
from .logs import stack_of
from .models.common import ErrorDetail, ErrorReply
from .subjects import EventSubject, Rep, Req, Stream, Subject

log = logging.getLogger("cardreg.bus")

DEFAULT_TIMEOUT = 5.0

Handler = Callable[[Any], Awaitable[BaseModel]]


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
    """Connect as `name`; replies come to a per-service inbox prefix (eases permissions).
    With `credentials`, the user is `name` too."""
    if credentials is not None:
        options = {**credentials.options(name), **options}

    async def on_error(exc: Exception) -> None:
        # Permission violations arrive here, not as exceptions.
        log.warning("nats error: %s: %s", type(exc).__name__, exc)

    return await nats.connect(
        url,
        name=name,
        error_cb=on_error,
        allow_reconnect=allow_reconnect,
        inbox_prefix=f"_INBOX.{name}",
        **options,
    )


async def request(
    nc: Client, subject: Subject[Req, Rep], payload: Req, *, timeout: float = DEFAULT_TIMEOUT
) -> Rep:
    """Typed request: the reply model, or `ServiceFailure` with the responder's error."""
    if not isinstance(payload, subject.request):
        raise TypeError(f"{subject.name} takes {subject.request.__name__}")
    try:
        msg = await nc.request(subject.name, payload.model_dump_json().encode(), timeout=timeout)
    except (NoRespondersError, NatsTimeout) as exc:
        log.warning("no reply on %s: %s", subject.name, type(exc).__name__)
        raise ServiceFailure(ErrorCode.UNAVAILABLE) from exc
    if msg.headers and ERROR_CODE_HEADER in msg.headers:
        raise _failure_from(msg.data, subject.name)
    try:
        return subject.reply.model_validate_json(msg.data)
    except ValidationError as exc:
        log.error("malformed reply on %s", subject.name)
        raise ServiceFailure(ErrorCode.INTERNAL) from exc


def _failure_from(data: bytes, subject: str) -> ServiceFailure:
    try:
        detail = ErrorReply.model_validate_json(data).error
    except ValidationError:
        log.error("malformed error reply on %s", subject)
        return ServiceFailure(ErrorCode.INTERNAL)
    return ServiceFailure(
        detail.code,
        detail.message,
        reason=detail.reason,
        retry_after=detail.retry_after,
        correlation_id=detail.correlation_id,
    )


def error_body(failure: ServiceFailure) -> bytes:
    detail = ErrorDetail(
        code=failure.code,
        message=failure.message,
        reason=failure.reason,
        retry_after=failure.retry_after,
        correlation_id=failure.correlation_id,
    )
    return ErrorReply(error=detail).model_dump_json(exclude_none=True).encode()


def describe_validation(exc: ValidationError) -> str:
    """Field locations and rule names only: pydantic's `input` may hold personal data."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


class ServiceHost:
    """A `nats.micro` service whose endpoints are typed handlers run concurrently."""

    def __init__(
        self,
        nc: Client,
        *,
        name: str,
        version: str,
        description: str,
        max_in_flight: int = 256,
    ) -> None:
        self._nc = nc
        self._config = {"name": name, "version": version, "description": description}
        self._routes: list[tuple[Subject, Handler]] = []
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task] = set()
        self._service = None

    def add(self, subject: Subject[Req, Rep], handler: Callable[[Req], Awaitable[Rep]]) -> None:
        self._routes.append((subject, handler))

    async def start(self) -> None:
        self._service = await add_service(self._nc, **self._config)
        for subject, handler in self._routes:
            await self._service.add_endpoint(
                name=subject.name.replace(".", "-"),
                subject=subject.name,
                queue_group=subject.owner,
                handler=self._dispatcher(subject, handler),
                metadata={"request": subject.request.__name__, "reply": subject.reply.__name__},
            )
        # nats-py can send flush()'s PING ahead of SUBs still buffered; the second round trip
        # is behind them, so the server knows every subscription when start() returns.
        await self._nc.flush()
        await self._nc.flush()

    async def stop(self) -> None:
        """Stop taking requests, finish the queued ones, let every in-flight handler reply."""
        service, self._service = self._service, None
        if service is None or self._nc.is_closed:
            return
        # nats.micro has no public drain: drain each endpoint's subscription ourselves.
        for endpoint in service._endpoints:
            if endpoint._subscription is not None:
                await endpoint._subscription.drain()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._nc.flush()

    def _dispatcher(self, subject: Subject, handler: Handler):
        async def on_request(req: Request) -> None:
            # Callbacks run one at a time per subscription: hand the work to a task, and
            # wait here only while the bound is reached (back-pressure, not a queue).
            await self._slots.acquire()
            task = asyncio.create_task(self._serve(subject, handler, req))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return on_request

    async def _serve(self, subject: Subject, handler: Handler, req: Request) -> None:
        try:
            body, headers = await self._answer(subject, handler, req.data)
            if req._msg.reply:
                await req.respond(body, headers=headers)
            else:
                log.warning("request on %s without reply subject dropped", subject.name)
        # The connection itself failed; nothing left to reply on.
        except Exception as exc:  # noqa: BLE001 - logged with its stack
            log.error("could not reply on %s: %s", subject.name, stack_of(exc))
        finally:
            self._slots.release()

    async def _answer(
        self, subject: Subject, handler: Handler, data: bytes
    ) -> tuple[bytes, dict[str, str] | None]:
        try:
            payload = subject.request.model_validate_json(data)
            reply = await handler(payload)
            return reply.model_dump_json().encode(), None
        except ValidationError as exc:
            failure = ServiceFailure(ErrorCode.INVALID_REQUEST, describe_validation(exc))
        except ServiceFailure as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - the last resort: every request gets a reply
            failure = ServiceFailure(ErrorCode.INTERNAL, correlation_id=uuid.uuid4().hex)
            log.error(
                "handler failed on %s correlation_id=%s: %s",
                subject.name,
                failure.correlation_id,
                stack_of(exc),
            )
        headers = {ERROR_HEADER: failure.code.value, ERROR_CODE_HEADER: str(failure.http_status)}
        return error_body(failure), headers


async def ensure_streams(js: JetStreamContext, streams: tuple[Stream, ...] | list[Stream]) -> None:
    """Create or update streams; idempotent, so every replica may call it at start-up."""
    for stream in streams:
        config = StreamConfig(
            name=stream.name,
            subjects=list(stream.subjects),
            description=stream.summary,
            retention=RetentionPolicy.WORK_QUEUE if stream.work_queue else RetentionPolicy.LIMITS,
            max_age=None if stream.max_age is None else stream.max_age.total_seconds(),
        )
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)


async def publish_event(
    js: JetStreamContext, subject: EventSubject, payload: BaseModel, *, msg_id: str
) -> None:
    """Publish to JetStream; `msg_id` lets the stream drop a republished duplicate."""
    if not isinstance(payload, subject.payload):
        raise TypeError(f"{subject.name} carries {subject.payload.__name__}")
    await js.publish(
        subject.name, payload.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id}
    )


async def service_answers(nc: Client, name: str, *, timeout: float = 0.2) -> bool:
    """Does the `nats.micro` service `name` answer discovery (`$SRV.PING.<name>`)?"""
    try:
        await nc.request(f"$SRV.PING.{name}", b"", timeout=timeout)
    except (NoRespondersError, NatsTimeout):
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
