"""The local nats-server of `cardreg up`: `cardreg_shared.natsserver` (the tests use it too)."""

from cardreg_shared.natsserver import BINARY, start

__all__ = ["BINARY", "start"]
