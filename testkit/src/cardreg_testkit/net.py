"""Ports for the servers a test starts (SMTP sinks, HTTP servers): never a fixed one, since
other runs share the machine."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that cannot pick their own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
