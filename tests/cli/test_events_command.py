"""`cardreg events` without a bus: what `--since` accepts, how it finds a running system."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cardreg import localbus
from cardreg.events import nats_client, parse_since, parser
from cardreg_shared.bus import Credentials

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("90s", NOW - timedelta(seconds=90)),
        ("2025-02-01", datetime(2025, 2, 1, tzinfo=UTC)),
        ("2025-02-01T06:00:00Z", datetime(2025, 2, 1, 6, tzinfo=UTC)),
        ("2025-02-01T14:00:00+08:00", datetime(2025, 2, 1, 6, tzinfo=UTC)),
    ],
)
def test_since_takes_durations_and_iso_times(text, expected):
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7w", "-3d", ""])
def test_anything_else_is_a_usage_error(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since(text, NOW)


def test_the_bus_of_a_running_cardreg_up_is_found_in_its_data_dir(tmp_path, monkeypatch):
    for name in (
        "CARDREG_NATS_URL",
        "NATS_URL",
        "CARDREG_NATS_PASSWORD_FILE",
        "CARDREG_NATS_CA_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    args = parser().parse_args(["--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        nats_client(args)  # no cardreg up has announced its bus there

    local = localbus.prepare(tmp_path / "nats")  # what cardreg up does, TLS included
    local.announce("tls://127.0.0.1:4999")
    url, credentials = nats_client(args)
    assert url == "tls://127.0.0.1:4999"
    assert credentials == Credentials(
        password_file=tmp_path / "nats" / "secrets" / "ops.password", ca_file=local.tls.ca_cert
    )
    assert "password" not in (tmp_path / "nats" / "client.json").read_text()

    given = parser().parse_args(["--data-dir", str(tmp_path), "--nats-url", "nats://x:1"])
    assert nats_client(given) == ("nats://x:1", Credentials())
    monkeypatch.setenv("CARDREG_NATS_PASSWORD_FILE", "/run/secrets/ops")
    assert nats_client(given)[1] == Credentials(password_file=Path("/run/secrets/ops"))
