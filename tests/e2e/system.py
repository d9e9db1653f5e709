"""Run the real system for end-to-end tests: `cardreg up` as a user would, in a temp data dir."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
from cardreg_shared import bus
from cardreg_testkit.net import free_port
from cardreg_testkit.people import WalletCard, load_wallet
from nats.aio.client import Client

CARDREG = Path(sys.executable).parent / "cardreg"


class RunningSystem:
    """`cardreg up` in a subprocess; `start()` returns once the portal answers."""

    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # What `cardreg up` announces and builds links from (WebAuthn needs a domain name).
        self.public_url = f"http://localhost:{self.port}"
        self.operator_port = free_port()
        self.operator_url = f"http://127.0.0.1:{self.operator_port}"
        self.env = {**os.environ, **(env or {})}
        self.env.pop("NATS_URL", None)
        self.env.pop("CARDREG_NATS_URL", None)
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "up.log"

    def start(self, timeout: float = 60, extra: tuple[str, ...] = ()) -> RunningSystem:
        """Start `cardreg up`; `extra` are more `cardreg up` options (e.g. --smtp)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Each start appends to the log; look for readiness only past what earlier runs wrote.
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(CARDREG),
                    "up",
                    "--data-dir",
                    str(self.data_dir),
                    "--http-port",
                    str(self.port),
                    "--operator-port",
                    str(self.operator_port),
                    *extra,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cardreg up exited:\n{self.log.read_text(errors='replace')}")
            if b"cardreg is up" in self.log.read_bytes()[offset:]:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"cardreg up not ready:\n{self.log.read_text(errors='replace')}")

    @property
    def nats_url(self) -> str:
        """As `cardreg up` printed it for this run (no credentials in it)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split()[1] for line in lines if line.strip().startswith("NATS:")][-1]

    def nats_credentials(self, user: str) -> bus.Credentials:
        """How `user` connects to this run's nats-server: the files `cardreg up` made."""
        root = self.data_dir / "nats"
        tls = self.nats_url.startswith("tls://")
        return bus.Credentials(
            password_file=root / "secrets" / f"{user}.password",
            ca_file=root / "tls" / "ca.crt" if tls else None,
        )

    async def connect(self, user: str = "ops", **options) -> Client:
        """A bus connection as `user` (ops by default: discovery and read-only listing)."""
        return await bus.connect(
            self.nats_url,
            name=user,
            credentials=self.nats_credentials(user),
            allow_reconnect=False,
            **options,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def cardreg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(CARDREG), *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=check,
            timeout=120,
        )

    def add_client(self, *args: str) -> dict[str, str]:
        """`cardreg clients add ARGS…` against this system: what it printed (client_id, and
        client_secret for a confidential client), one `key value` a line."""
        out = self.cardreg("clients", "--data-dir", str(self.data_dir), "add", *args).stdout
        return dict(line.split(" ", 1) for line in out.splitlines())

    def seed(self, wallet: Path, citizens: int, foreigners: int) -> list[WalletCard]:
        self.cardreg(
            "seed",
            "--data-dir",
            str(self.data_dir),
            "--citizens",
            str(citizens),
            "--foreigners",
            str(foreigners),
            "--wallet",
            str(wallet),
        )
        return list(load_wallet(wallet))


class People:
    """Hands out wallet people so that no two tests touch the same person."""

    def __init__(self, entries: list[WalletCard]) -> None:
        self.all = list(entries)
        self._citizens = [e for e in entries if e.kind == "citizen"]
        self._foreigners = [e for e in entries if e.kind == "foreigner"]

    def citizen(self) -> WalletCard:
        return self._citizens.pop()

    def foreigner(self) -> WalletCard:
        return self._foreigners.pop()

    def citizen_where(self, wanted) -> WalletCard:
        """A citizen no test had yet for whom `wanted(entry)` holds."""
        entry = next(e for e in reversed(self._citizens) if wanted(e))
        self._citizens.remove(entry)
        return entry


class ChallengeUnavailable(AssertionError):
    """The challenge before a card read was answered 503: retriable, as the call itself."""

    def __init__(self, reply: httpx.Response) -> None:
        super().__init__(reply.text)
        self.reply = reply


class Portal:
    """A citizen's calls to the HTTP API, with a wallet card in the reader."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def challenge(self) -> str:
        reply = self.http.post("/api/v1/challenges")
        if reply.status_code == 503:
            raise ChallengeUnavailable(reply)
        assert reply.status_code == 201, reply.text
        return reply.json()["nonce"]

    def card(self, entry: WalletCard, nonce: str | None = None) -> dict:
        return entry.read(nonce or self.challenge()).model_dump(mode="json")

    def bearer(self, entry: WalletCard, password: str) -> dict[str, str]:
        reply = self.login(entry, password)
        assert reply.status_code == 201, reply.text
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}

    def forgot(self, entry: WalletCard, **extra) -> httpx.Response:
        return self.http.post("/api/v1/password-resets", json={"card": self.card(entry), **extra})

    def complete(self, token: str, new_password: str) -> httpx.Response:
        body = {"token": token, "new_password": new_password}
        return self.http.post("/api/v1/password-resets/complete", json=body)

    def register(self, entry: WalletCard, password: str, **extra) -> httpx.Response:
        body = {"card": self.card(entry), "password": password, **entry.proof(), **extra}
        return self.http.post("/api/v1/registrations", json=body)

    def lookup(self, entry: WalletCard) -> httpx.Response:
        return self.http.post("/api/v1/registrations/lookup", json={"card": self.card(entry)})

    def login(self, entry: WalletCard, password: str) -> httpx.Response:
        return self.http.post(
            "/api/v1/sessions", json={"card": self.card(entry), "password": password}
        )


class Mailbox:
    """The .eml files the local mail catcher of `cardreg up` keeps in DATA_DIR/mail."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def all(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.folder.glob("*.eml"))
        ]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.all() if address in str(m["To"])]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list[EmailMessage]:
        """The first `count` mails to `address`, once they have all arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.to(address)
            if len(found) >= count:
                return found[:count]
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} mails arrived in {timeout} s")
            time.sleep(0.05)


def body_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def reset_token(message: EmailMessage) -> str:
    match = re.search(r"/reset-password\?token=([A-Za-z0-9_-]+)", body_text(message))
    assert match, "no reset link in the mail"
    return match.group(1)


def error_code(reply: httpx.Response) -> str:
    return reply.json()["error"]["code"]


class ServiceProcesses:
    """identity, registry, mailer and the gateway, each `python -m` in its own process, on a
    nats-server the test owns (so that the test can stop, kill and restart it)."""

    MODULES = ("cardreg_identity", "cardreg_registry", "cardreg_mailer", "cardreg_gateway")

    def __init__(
        self, data_dir: Path, nats_url: str, smtp_port: int, *, log_dir: Path | None = None
    ) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir or data_dir  # elsewhere when the data dir's disk is to fill up
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CARDREG_", "NATS_"))},
            "CARDREG_NATS_URL": nats_url,
            "CARDREG_DATA_DIR": str(data_dir),
            "CARDREG_GATEWAY_HTTP_PORT": str(self.port),
            "CARDREG_GATEWAY_OPERATOR_PORT": "0",
            "CARDREG_MAILER_SMTP_HOST": "127.0.0.1",
            "CARDREG_MAILER_SMTP_PORT": str(smtp_port),
            "CARDREG_MAILER_SMTP_SECURITY": "none",
        }
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, timeout: float = 60) -> ServiceProcesses:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for module in self.MODULES:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with (self.log_dir / f"{module}.log").open("ab") as out:
                self.procs[module] = subprocess.Popen(
                    [sys.executable, "-m", module], env=self.env, stdout=out, stderr=out
                )
        self.wait_ready(timeout)
        return self

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if dead := self.exited():
                raise RuntimeError(f"{dead} exited:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout} s:\n{self.logs()}")
            time.sleep(0.05)

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def logs(self) -> str:
        return "\n".join(
            (self.log_dir / f"{m}.log").read_text(errors="replace") for m in self.procs
        )

    def stop(self) -> dict[str, int]:
        """SIGTERM to each, gateway first; their exit codes."""
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes
