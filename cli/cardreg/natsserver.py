"""The local nats-server of `cardreg up`: `cardreg_shared.natsserver` (the tests use it too)."""

from cardreg_shared.natsserver import BINARY, argv, ports_file, start, url_of

__all__ = ["BINARY", "argv", "ports_file", "start", "url_of"]
