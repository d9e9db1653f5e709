"""One log format for every service. Handlers log ids and codes, never personal data.

`CARDREG_LOG_FORMAT=json` writes one JSON object per line: `time` (UTC, ISO 8601), `level`,
`service`, `logger`, `message`, `correlation_id` (the request's, the same in every service it
passed through: the gateway makes one per HTTP request, `bus.request` carries it in the
`Cardreg-Correlation-Id` header, `ServiceHost` takes it up) and, for a logged exception,
`exception` with its `type` and `stack` — never the exception's message, which may quote the
personal data the failing code was handling. The default is the text format.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

# Libraries that log message contents at DEBUG: aiosqlite every statement with its parameters
# (hashes, card numbers, emails), nats the payloads. They stay at INFO or above whatever the
# level asked for.
QUIET = ("aiosqlite", "nats")

# The NATS header that carries a request's correlation id from service to service.
CORRELATION_HEADER = "Cardreg-Correlation-Id"
# What a correlation id from another service may look like: ours are 32 hex digits.
_CORRELATION_ID = re.compile(r"^[0-9a-f]{32}$")

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cardreg_correlation_id", default=None
)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def correlation_id() -> str | None:
    """The correlation id of the request this code runs for, if any."""
    return _correlation.get()


def set_correlation_id(value: str | None) -> contextvars.Token[str | None]:
    """Make `value` the current request's id (for this task and what it starts)."""
    return _correlation.set(value)


def reset_correlation_id(token: contextvars.Token[str | None]) -> None:
    _correlation.reset(token)


def accepted_correlation_id(value: str | None) -> str:
    """A correlation id received from another service, if it has our shape; a new one
    otherwise (a header is text anyone on the bus could have written)."""
    if value is not None and _CORRELATION_ID.match(value):
        return value
    return new_correlation_id()


def _not_tls_eof_noise(record: logging.LogRecord) -> bool:
    # asyncio's SSL transport warns at every close of a TLS NATS connection, because nats-py's
    # stream protocol asks to keep the half-closed socket open; nothing is wrong.
    return "eof_received()" not in record.getMessage()


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or correlation_id(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            document["exception"] = {
                "type": kind.__name__,
                "stack": "".join(traceback.format_tb(tb)),
            }
        if record.stack_info:
            document["stack"] = record.stack_info
        return json.dumps(document, ensure_ascii=False)


def configure(service: str) -> None:
    level = logging.getLevelName(os.environ.get("CARDREG_LOG_LEVEL", "INFO").upper())
    level = level if isinstance(level, int) else logging.INFO
    if os.environ.get("CARDREG_LOG_FORMAT", "text").lower() == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(service))
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(
            level=level, format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"
        )
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("asyncio").addFilter(_not_tls_eof_noise)


def stack_of(exc: BaseException) -> str:
    """The exception's type and stack for a log line, without its message: a message may quote
    the personal data the failing code was handling."""
    return f"{type(exc).__name__}\n" + "".join(traceback.format_tb(exc.__traceback__))
