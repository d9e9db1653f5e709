"""`ServiceHost`: a service's endpoints on the bus, discoverable as a `nats.micro` service.

`nats.micro` runs an endpoint's handler inside the subscription's callback, one request at a
time, and measures the callback; it can only unsubscribe its endpoints, dropping what is
queued. We need requests answered concurrently, statistics that measure the real work, and a
stop that drains. So the host owns its subscriptions and speaks the micro protocol itself,
with `nats.micro`'s own types for every discovery reply (`$SRV.PING/INFO/STATS`) and its
`Request.respond_error` for error replies:

- every request runs on a task of one bounded `TaskPool`, and gets a reply: a typed error, or
  `internal` with a correlation id (logged with type and stack, never the message); the task
  logs under the caller's correlation id (`logs.CORRELATION_HEADER`) or a new one;
- each request is counted and timed per subject and outcome (`metrics.BUS_REQUESTS`);
- `$SRV.STATS` counts each endpoint's requests, error replies and the time from receipt to
  reply;
- `stop()` first leaves discovery (`$SRV.PING` stops answering), then drains the endpoints and
  lets every request in hand reply.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.micro.request import Request
from nats.micro.service import (
    EndpointConfig,
    EndpointInfo,
    EndpointStats,
    ServiceConfig,
    ServiceInfo,
    ServicePing,
    ServiceStats,
    ServiceVerb,
    control_subject,
)
from nats.nuid import NUID
from pydantic import BaseModel, ValidationError

from . import logs, metrics
from .errors import ErrorCode, ServiceFailure
from .logs import stack_of
from .models.common import ErrorDetail, ErrorReply
from .subjects import Rep, Req, Subject
from .tasks import TaskPool

log = logging.getLogger("cardreg.bus")

Handler = Callable[[Any], Awaitable[BaseModel]]


def error_body(failure: ServiceFailure) -> bytes:
    return ErrorReply(error=ErrorDetail.of(failure)).model_dump_json(exclude_none=True).encode()


def describe_validation(exc: ValidationError) -> str:
    """Field locations and rule names only: pydantic's `input` may hold personal data."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


@dataclass
class _Endpoint:
    subject: Subject[Any, Any]
    handler: Handler
    config: EndpointConfig
    requests: int = 0
    errors: int = 0
    processing_ns: int = 0
    last_error: str | None = None
    subscription: Subscription | None = field(default=None, repr=False)

    def info(self) -> EndpointInfo:
        return EndpointInfo(
            name=self.config.name,
            subject=self.subject.name,
            queue_group=self.subject.owner,
            metadata=self.config.metadata or {},
        )

    def stats(self) -> EndpointStats:
        return EndpointStats(
            name=self.config.name,
            subject=self.subject.name,
            queue_group=self.subject.owner,
            num_requests=self.requests,
            num_errors=self.errors,
            last_error=self.last_error,
            processing_time=self.processing_ns,
            average_processing_time=self.processing_ns // self.requests if self.requests else 0,
        )


class ServiceHost:
    """A service's typed handlers, one endpoint per subject, in the owner's queue group."""

    def __init__(
        self,
        nc: Client,
        *,
        name: str,
        version: str,
        description: str,
        max_in_flight: int = 256,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self._nc = nc
        # Metadata is public to anyone allowed on `$SRV.INFO`: configuration, never secrets.
        self._config = ServiceConfig(
            name=name, version=version, description=description, metadata=metadata or {}
        )
        self.id = NUID().next().decode()
        self._served: list[_Endpoint] = []
        self._pool = TaskPool(max_in_flight, name=f"{name} request")
        self._discovery: list[Subscription] = []
        self._started = datetime.now(UTC)
        self._running = False

    @property
    def name(self) -> str:
        return self._config.name

    def add(self, subject: Subject[Req, Rep], handler: Callable[[Req], Awaitable[Rep]]) -> None:
        config = EndpointConfig(
            name=subject.name.replace(".", "-"),
            subject=subject.name,
            queue_group=subject.owner,
            handler=_unused,
            metadata={"request": subject.request.__name__, "reply": subject.reply.__name__},
        )
        self._served.append(_Endpoint(subject, handler, config))

    async def start(self) -> None:
        nc = self._nc
        for endpoint in self._served:
            endpoint.subscription = await nc.subscribe(
                endpoint.subject.name, queue=endpoint.subject.owner, cb=self._receiver(endpoint)
            )
        answers = {
            ServiceVerb.PING: self._ping,
            ServiceVerb.INFO: self._info,
            ServiceVerb.STATS: self._stats,
        }
        for verb, answer in answers.items():
            for subject in (
                control_subject(verb),
                control_subject(verb, name=self.name),
                control_subject(verb, name=self.name, id=self.id),
            ):
                self._discovery.append(await nc.subscribe(subject, cb=_replying(answer)))
        self._started = datetime.now(UTC)
        self._running = True
        # nats-py can send flush()'s PING ahead of SUBs still buffered; the second round trip
        # is behind them, so the server knows every subscription when start() returns.
        await nc.flush()
        await nc.flush()

    async def stop(self) -> None:
        """Leave discovery, stop taking requests, let every request in hand reply."""
        if not self._running:
            return
        self._running = False
        discovery, self._discovery = self._discovery, []
        for sub in discovery:
            await _quietly(sub.unsubscribe())
        for endpoint in self._served:
            held, endpoint.subscription = endpoint.subscription, None
            if held is not None:
                # Drain: requests already delivered to us are still answered. Without a
                # connection there is nothing to drain from; drop the interest instead.
                if self._nc.is_connected:
                    await _quietly(held.drain())  # type: ignore[no-untyped-call]
                else:
                    await _quietly(held.unsubscribe())
        await self._pool.wait()
        if self._nc.is_connected:
            await _quietly(self._nc.flush())

    # discovery: nats.micro's own reply types

    def ping(self) -> ServicePing:
        return ServicePing(id=self.id, name=self.name, version=self._config.version)

    def info(self) -> ServiceInfo:
        return ServiceInfo(
            id=self.id,
            name=self.name,
            version=self._config.version,
            description=self._config.description,
            endpoints=[e.info() for e in self._served],
            metadata=self._config.metadata or {},
        )

    def stats(self) -> ServiceStats:
        return ServiceStats(
            id=self.id,
            name=self.name,
            version=self._config.version,
            started=self._started,
            endpoints=[e.stats() for e in self._served],
        )

    def _ping(self) -> dict[str, Any]:
        return self.ping().to_dict()

    def _info(self) -> dict[str, Any]:
        return self.info().to_dict()

    def _stats(self) -> dict[str, Any]:
        return self.stats().to_dict()

    # requests

    def _receiver(self, endpoint: _Endpoint) -> Callable[[Msg], Awaitable[None]]:
        async def on_request(msg: Msg) -> None:
            # Callbacks run one at a time per subscription: hand the work to a task, and
            # wait here only while the pool is full (back-pressure, not a queue).
            received = time.perf_counter_ns()
            endpoint.requests += 1
            await self._pool.spawn(lambda: self._serve(endpoint, msg, received))

        return on_request

    async def _serve(self, endpoint: _Endpoint, msg: Msg, received: int) -> None:
        # This task's logs carry the caller's correlation id (or a new one).
        sent = msg.headers.get(logs.CORRELATION_HEADER) if msg.headers else None
        logs.set_correlation_id(logs.accepted_correlation_id(sent))
        name = endpoint.subject.name
        body, failure = await self._answer(endpoint, msg.data)
        request = Request(msg)
        try:
            if not msg.reply:
                log.warning("request on %s without reply subject dropped", name)
            elif failure is None:
                await request.respond(body)
            else:
                await request.respond_error(str(failure.http_status), failure.code.value, body)
        # The connection itself failed; nothing left to reply on.
        except Exception as exc:  # noqa: BLE001 - logged with its stack
            log.error("could not reply on %s: %s", name, stack_of(exc))
        finally:
            outcome = metrics.OK
            if failure is not None:
                endpoint.errors += 1
                endpoint.last_error = f"{failure.http_status}:{failure.code.value}"
                outcome = failure.code.value
            elapsed = time.perf_counter_ns() - received
            endpoint.processing_ns += elapsed
            metrics.BUS_REQUESTS.labels(self.name, name, outcome).inc()
            metrics.BUS_REQUEST_SECONDS.labels(self.name, name, outcome).observe(elapsed / 1e9)
            log.debug("served %s outcome=%s %.1fms", name, outcome, elapsed / 1e6)

    async def _answer(
        self, endpoint: _Endpoint, data: bytes
    ) -> tuple[bytes, ServiceFailure | None]:
        subject = endpoint.subject
        try:
            payload = subject.request.model_validate_json(data)
            reply = await endpoint.handler(payload)
            return reply.model_dump_json().encode(), None
        except ValidationError as exc:
            failure = ServiceFailure(ErrorCode.INVALID_REQUEST, describe_validation(exc))
        except ServiceFailure as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - the last resort: every request gets a reply
            failure = ServiceFailure(
                ErrorCode.INTERNAL,
                correlation_id=logs.correlation_id() or logs.new_correlation_id(),
            )
            log.error(
                "handler failed on %s correlation_id=%s: %s",
                subject.name,
                failure.correlation_id,
                stack_of(exc),
            )
        return error_body(failure), failure


async def _unused(_: Request) -> None:
    """`EndpointConfig` wants a handler; the host dispatches requests itself."""


def _replying(answer: Callable[[], dict[str, Any]]) -> Callable[[Msg], Awaitable[None]]:
    async def reply(msg: Msg) -> None:
        if msg.reply:
            await _quietly(Request(msg).respond(_json(answer())))

    return reply


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


async def _quietly(step: Awaitable[object]) -> None:
    """A step of leaving the bus; a connection that is closing or gone makes it moot."""
    try:
        await step
    except nats.errors.Error as exc:
        log.debug("skipped while leaving the bus: %s", type(exc).__name__)
