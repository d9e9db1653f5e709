"""One log format for every service. Handlers log ids and codes, never personal data."""

from __future__ import annotations

import logging
import os
import traceback

# Libraries that log message contents at DEBUG: aiosqlite every statement with its parameters
# (hashes, card numbers, emails), nats the payloads. They stay at INFO or above whatever the
# level asked for.
QUIET = ("aiosqlite", "nats")


def _not_tls_eof_noise(record: logging.LogRecord) -> bool:
    # asyncio's SSL transport warns at every close of a TLS NATS connection, because nats-py's
    # stream protocol asks to keep the half-closed socket open; nothing is wrong.
    return "eof_received()" not in record.getMessage()


def configure(service: str) -> None:
    level = logging.getLevelName(os.environ.get("CARDREG_LOG_LEVEL", "INFO").upper())
    logging.basicConfig(
        level=level if isinstance(level, int) else logging.INFO,
        format=f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s",
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("asyncio").addFilter(_not_tls_eof_noise)


def stack_of(exc: BaseException) -> str:
    """The exception's type and stack for a log line, without its message: a message may quote
    the personal data the failing code was handling."""
    return f"{type(exc).__name__}\n" + "".join(traceback.format_tb(exc.__traceback__))
