"""Container healthcheck; exit 0 when healthy, 1 otherwise.

    python healthcheck.py nats NAME   a `nats.micro` service called NAME answers `$SRV.PING.NAME`
                                      (connects as the service does: CARDREG_NATS_URL, and
                                      CARDREG_NATS_CA_FILE for TLS, CARDREG_NATS_PASSWORD_FILE)
    python healthcheck.py http URL    URL answers 200

Standard library and nats-py only, so it runs in the service image as is. It never prints the
NATS URL: that holds the service's password.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import urllib.error
import urllib.request
from typing import Any

from nats.aio.client import Client
from nats.errors import Error as NatsError

TIMEOUT = 3.0


def options_from_env(name: str, env: dict[str, str]) -> dict[str, Any]:
    """The connect options `cardreg_shared.bus.Credentials` gives a service, from the same
    variables (kept here in the standard library: the healthcheck imports nothing of ours)."""
    options: dict[str, Any] = {}
    if path := env.get("CARDREG_NATS_PASSWORD_FILE"):
        with open(path, encoding="utf-8") as secret:
            options.update(user=name, password=secret.read().rstrip("\r\n"))
    if ca_file := env.get("CARDREG_NATS_CA_FILE"):
        options.update(tls=ssl.create_default_context(cafile=ca_file), tls_handshake_first=True)
    return options


async def service_answers(url: str, name: str, *, timeout: float = TIMEOUT, **options: Any) -> bool:
    """True when at least one instance of the micro service `name` answers a ping."""

    async def quiet(_exc: Exception) -> None:  # the outcome is the exit code
        pass

    nc = Client()  # not nats.connect(): a failed connect would leave its socket open
    try:
        await nc.connect(
            [server.strip() for server in url.split(",")],  # a cluster: several, comma-separated
            name=f"{name}-healthcheck",
            inbox_prefix=f"_INBOX.{name}",  # the service user may subscribe only here
            allow_reconnect=False,
            connect_timeout=timeout,
            error_cb=quiet,
            **options,
        )
        await nc.request(f"$SRV.PING.{name}", b"", timeout=timeout)
        return True
    except (TimeoutError, NatsError, OSError):  # refused, no responders, timeout
        return False
    finally:
        await nc.close()


def http_ok(url: str, *, timeout: float = TIMEOUT) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    # asyncio warns at every close of a TLS NATS connection (nats-py's half-close request);
    # the exit code says everything this check has to say.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    match argv:
        case ["nats", name]:
            url = os.environ.get("CARDREG_NATS_URL", "nats://127.0.0.1:4222")
            try:
                options = options_from_env(name, dict(os.environ))
            except (OSError, ssl.SSLError):
                options = None  # a missing or unreadable file: unhealthy, said below
            healthy = options is not None and asyncio.run(service_answers(url, name, **options))
        case ["http", url]:
            healthy = http_ok(url)
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    if not healthy:
        print(f"unhealthy: {' '.join(argv)}", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
