"""Prometheus metrics common to every service, on prometheus_client's default registry.

What every service has is measured here, once: the requests a `ServiceHost` serves (per
subject, with the outcome: `ok` or the error code), the requests a service sends
(`bus.request`), the gateway's HTTP routes (the route's template, never the raw path), the
lag of a JetStream consumer, and the process itself (prometheus_client's process and
platform collectors). A service adds its own (logins, locks, mails) beside its code.

Labels carry names from the code only: subjects, route templates, error codes, stream and
consumer names. Nothing a client sent goes into a label.

The NATS-only services expose the registry on a port of their own (`MetricsEndpoint`,
`CARDREG_<SVC>_METRICS_PORT`, off when unset); the gateway at `/metrics` on its HTTP port.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

__all__ = [
    "BUS_CLIENT_REQUESTS",
    "BUS_REQUESTS",
    "BUS_REQUEST_SECONDS",
    "CONSUMER_ACK_PENDING",
    "CONSUMER_PENDING",
    "CONTENT_TYPE_LATEST",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "OK",
    "MetricsEndpoint",
    "Sampler",
    "exposition",
]

log = logging.getLogger("cardreg.metrics")

OK = "ok"
# From a cache hit (~1 ms) to an argon2 login under load (seconds) and a request timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

BUS_REQUESTS = Counter(
    "cardreg_bus_requests",
    "Requests served on the bus, by subject and outcome (ok or the error code)",
    ["service", "subject", "outcome"],
)
BUS_REQUEST_SECONDS = Histogram(
    "cardreg_bus_request_duration_seconds",
    "Time from receipt of a bus request to its reply, by subject and outcome",
    ["service", "subject", "outcome"],
    buckets=LATENCY_BUCKETS,
)
BUS_CLIENT_REQUESTS = Counter(
    "cardreg_bus_client_requests",
    "Requests sent on the bus (bus.request), by subject and outcome",
    ["subject", "outcome"],
)
HTTP_REQUESTS = Counter(
    "cardreg_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "cardreg_http_request_duration_seconds",
    "HTTP request latency by route template and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_PENDING = Gauge(
    "cardreg_jetstream_consumer_pending",
    "Messages of the stream not yet delivered to the durable consumer (its lag)",
    ["stream", "consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "cardreg_jetstream_consumer_ack_pending",
    "Messages delivered to the durable consumer and not yet acknowledged",
    ["stream", "consumer"],
)

_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_http(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request; `route` is the matched template (or `<unmatched>`)."""
    method = method if method in _HTTP_METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(status or 0)).inc()
    HTTP_REQUEST_SECONDS.labels(route, method).observe(seconds)


def exposition() -> bytes:
    """The default registry in the Prometheus text format (for the gateway's `/metrics`)."""
    return generate_latest(REGISTRY)


@dataclass
class MetricsEndpoint:
    """The default registry served over HTTP on `host:port` (prometheus_client's own server,
    on a thread of its own: a scrape never waits for the event loop)."""

    port: int
    host: str = "127.0.0.1"
    _server: WSGIServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def of(cls, port: int | None, host: str = "127.0.0.1") -> MetricsEndpoint | None:
        """From a service's settings: none without a port."""
        return None if port is None else cls(port, host)

    def start(self) -> None:
        self._server, self._thread = start_http_server(self.port, addr=self.host)
        self.port = self._server.server_port
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class Sampler:
    """Runs `sample()` every `seconds` on a task of its own, until `stop()`: gauges read from
    a database or a server (outbox backlog, consumer lag). A failing sample is logged by
    type and tried again next time; the gauges keep their last values."""

    def __init__(self, name: str, sample: Callable[[], Awaitable[Any]], seconds: float) -> None:
        self._name = name
        self._sample = sample
        self._seconds = seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._name} sampler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self._sample()
                failing = False
            except Exception as exc:  # noqa: BLE001 - a gauge is no reason to stop a service
                if not failing:
                    log.warning("%s sample failed: %s", self._name, type(exc).__name__)
                failing = True
            await asyncio.sleep(self._seconds)


def consumer_lag(js: Any, stream: str, durable: str, *, seconds: float = 5.0) -> Sampler:
    """A sampler of a durable consumer's lag (`consumer_info`: pending and ack pending)."""
    pending = CONSUMER_PENDING.labels(stream, durable)
    ack_pending = CONSUMER_ACK_PENDING.labels(stream, durable)

    async def sample() -> None:
        info = await js.consumer_info(stream, durable)
        pending.set(info.num_pending or 0)
        ack_pending.set(info.num_ack_pending or 0)

    return Sampler(f"{stream}/{durable} consumer lag", sample, seconds)
