"""A scripted peer: a fake service on the real nats-server, answering the subjects a test
chooses with the handlers it gives, through the same `ServiceHost` as the real services
(typed errors, discovery, drain on stop)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from cardreg_shared import bus
from cardreg_shared.subjects import Subject

Handlers = Mapping[Subject[Any, Any], Callable[[Any], Awaitable[Any]]]


@asynccontextmanager
async def scripted_peer(
    nats_url: str, name: str, handlers: Handlers, *, description: str = "scripted"
) -> AsyncIterator[bus.ServiceHost]:
    """Serve `handlers` as the service `name` (its user, inbox and queue group) while inside."""
    nc = await bus.connect(nats_url, name=name, allow_reconnect=False)
    host = bus.ServiceHost(nc, name=name, version="0.0.0", description=description)
    for subject, handler in handlers.items():
        host.add(subject, handler)
    try:
        await host.start()
        yield host
    finally:
        await host.stop()
        await bus.close(nc)
