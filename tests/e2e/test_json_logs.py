"""`CARDREG_LOG_FORMAT=json`: every service writes one JSON object per line, one request's
correlation id is in the lines of the gateway, the registry and identity (and, through the
outbox and the mail stream, in the mailer's line about the mail it asked for), and no line
carries personal data."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from .system import Mailbox, Portal, RunningSystem, error_code

PASSWORD = "copper-kettle-meadow"
EMAIL = "json-logs@example.com"
FIELDS = {"time", "level", "service", "logger", "message", "correlation_id"}


@pytest.fixture(scope="module")
def json_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    env = {"CARDREG_LOG_LEVEL": "DEBUG", "CARDREG_LOG_FORMAT": "json"}
    running = RunningSystem(tmp_path_factory.mktemp("json-logs"), env=env)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def json_lines(system: RunningSystem) -> list[dict]:
    """The services' lines of the log (`cardreg up`'s own announcements are text)."""
    lines = system.log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_json_lines_correlate_one_request_across_services_and_hold_nothing_personal(
    json_system: RunningSystem,
):
    people = json_system.seed(json_system.data_dir / "wallet.jsonl", citizens=3, foreigners=0)
    me, other = people[0], people[1]
    with httpx.Client(base_url=json_system.url, timeout=30) as http:
        portal = Portal(http)
        assert portal.register(me, PASSWORD, email=EMAIL).status_code == 201
        login = portal.login(me, PASSWORD)
        assert login.status_code == 201, login.text
        correlation = login.headers["X-Correlation-ID"]
        assert error_code(portal.login(other, PASSWORD)) == "invalid_credentials"
        forgot = portal.forgot(me)
        assert forgot.status_code == 202
    Mailbox(json_system.data_dir / "mail").wait_for(EMAIL)
    # The mailer logs its outcome just after the SMTP server took the mail.
    deadline = time.monotonic() + 10
    while not any(
        line["service"] == "mailer"
        and line["correlation_id"] == forgot.headers["X-Correlation-ID"]
        and "outcome=sent" in line["message"]
        for line in json_lines(json_system)
    ):
        assert time.monotonic() < deadline, "no mailer line with the reset request's id"
        time.sleep(0.2)

    lines = json_lines(json_system)
    raw = [
        line
        for line in json_system.log.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("{")
    ]
    # Only cardreg up's own announcement (and supervisor lines) are not JSON.
    assert all(not line.startswith(("20", "DEBUG", "INFO", "WARNING")) for line in raw), raw[:5]
    assert len(lines) > 20
    for line in lines:
        assert FIELDS <= set(line), line
    services = {line["service"] for line in lines}
    assert {"gateway", "registry", "identity", "mailer"} <= services
    of_login = {line["service"] for line in lines if line["correlation_id"] == correlation}
    assert {"gateway", "registry", "identity"} <= of_login, of_login
    access = [line for line in lines if line["logger"] == "cardreg.gateway.access"]
    assert any("POST /api/v1/sessions 201" in line["message"] for line in access)
    for line in lines:
        if "exception" in line:
            assert set(line["exception"]) == {"type", "stack"}

    text = json_system.log.read_text(encoding="utf-8", errors="replace")
    secrets = {PASSWORD, EMAIL}
    for entry in people:
        secrets |= {entry.card.id_no, entry.card.card_no, entry.card.name, entry.card_key}
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, f"{len(leaked)} personal values in the JSON logs"
