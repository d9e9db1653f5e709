"""The bus going away: every service stays up, answers fast and typed while it is gone, and
works again once nats-server is back on the same port and store, without a restart.

Real processes: the four services as `python -m ...`, on a nats-server the test stops, kills
(SIGKILL) and starts again with the same JetStream store.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller
from cardreg_testkit.nats import NatsProcess
from cardreg_testkit.people import load_wallet
from cardreg_testkit.waits import poll_until

from .system import People, Portal, ServiceProcesses, error_code, free_port

PASSWORD = "tea-mountain-harbour"


class Sink:
    """An SMTP server that keeps who each mail was for."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.recipients += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsProcess]:
    server = NatsProcess(tmp_path_factory.mktemp("nats"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def sink() -> Sink:
    return Sink()


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory, nats: NatsProcess, sink: Sink
) -> Iterator[ServiceProcesses]:
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    running = ServiceProcesses(tmp_path_factory.mktemp("data"), nats.url, smtp.port).start()
    try:
        yield running
    finally:
        codes = running.stop()
        smtp.stop()
        # A service that had crashed would show here (and as a traceback in its log).
        assert codes == dict.fromkeys(ServiceProcesses.MODULES, 0), running.logs()
        assert "Traceback" not in running.logs()


@pytest.fixture(scope="module")
def people(services: ServiceProcesses) -> People:
    wallet = services.data_dir / "wallet.jsonl"
    subprocess.run(
        [sys.executable, "-m", "cardreg.cli", "seed", "--data-dir", str(services.data_dir),
         "--citizens", "12", "--foreigners", "0", "--wallet", str(wallet)],
        check=True,
        capture_output=True,
        env=services.env,
    )  # fmt: skip
    return People(list(load_wallet(wallet)))


@pytest.fixture
def portal(services: ServiceProcesses) -> Iterator[Portal]:
    with httpx.Client(base_url=services.url, timeout=30) as http:
        yield Portal(http)


def test_while_nats_is_stopped_logins_fail_fast_then_work_again_after_its_restart(
    nats: NatsProcess, services: ServiceProcesses, people: People, portal: Portal, sink: Sink
) -> None:
    person = people.citizen()
    address = "outage.test@example.org"
    assert portal.register(person, PASSWORD, email=address).status_code == 201
    card = portal.card(person)  # a challenge issued while the bus is up
    nats.stop()
    poll_until(lambda: not services.ready(), "/readyz to say not ready")
    ready = portal.http.get("/readyz")
    assert ready.status_code == 503 and error_code(ready) == "unavailable"
    assert portal.http.get("/healthz").status_code == 200  # live all the same
    started = time.monotonic()
    reply = portal.http.post("/api/v1/sessions", json={"card": card, "password": PASSWORD})
    took = time.monotonic() - started
    assert (reply.status_code, error_code(reply)) == (503, "unavailable")
    assert took < 1.0, f"503 after {took:.2f} s"
    challenge = portal.http.post("/api/v1/challenges")
    assert (challenge.status_code, error_code(challenge)) == (503, "unavailable")
    assert services.exited() == []

    nats.restart()
    poll_until(services.ready, "/readyz after the restart")
    # The challenge buckets and the accounts never left.
    assert portal.login(person, PASSWORD).status_code == 201
    # The outbox relay, the MAIL stream on disk and the mailer's durable consumer work again.
    assert portal.forgot(person).status_code == 202
    poll_until(lambda: address in sink.recipients, "the reset mail after the restart")
    assert services.exited() == []


def test_kill_9_of_nats_under_load_crashes_nothing_and_every_account_logs_in_after(
    nats: NatsProcess, services: ServiceProcesses, people: People, portal: Portal
) -> None:
    registered = [people.citizen() for _ in range(4)]
    for person in registered:
        assert portal.register(person, PASSWORD).status_code == 201
    stop = threading.Event()
    statuses: list[int] = []

    def load() -> None:
        with httpx.Client(base_url=services.url, timeout=30) as http:
            client = Portal(http)
            for n in range(10_000):  # bounded; stopped by the test long before
                if stop.is_set():
                    return
                try:
                    statuses.append(client.login(registered[n % 4], PASSWORD).status_code)
                except (httpx.HTTPError, AssertionError):
                    statuses.append(0)  # the challenge itself was refused (503)
                time.sleep(0.02)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        poll_until(lambda: 201 in statuses, "a login under load")
        nats.stop(signal.SIGKILL)
        seen = len(statuses)
        poll_until(lambda: len(statuses) > seen + 5, "logins answered while NATS is gone")
        assert services.exited() == []
        nats.restart()
        poll_until(services.ready, "/readyz after the restart")
        recovered = len(statuses)
        poll_until(lambda: 201 in statuses[recovered:], "a login after the restart")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert services.exited() == []
    assert set(statuses) <= {201, 503, 0}
    for person in registered:
        assert portal.login(person, PASSWORD).status_code == 201


def test_every_service_stops_cleanly_while_nats_is_gone(
    nats: NatsProcess, services: ServiceProcesses
) -> None:
    """Runs last in this module: stopping a service while it is reconnecting used to end in a
    traceback from draining a connection that was not there."""
    nats.stop(signal.SIGKILL)
    poll_until(lambda: not services.ready(), "/readyz to say not ready")
    assert services.stop() == dict.fromkeys(ServiceProcesses.MODULES, 0), services.logs()
    assert "Traceback" not in services.logs()
