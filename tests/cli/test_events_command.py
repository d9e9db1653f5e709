"""`cardreg events` without a bus: what `--since` accepts, how it finds a running system."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from cardreg.events import nats_url, parse_since, parser

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
    monkeypatch.delenv("CARDREG_NATS_URL", raising=False)
    monkeypatch.delenv("NATS_URL", raising=False)
    ports = tmp_path / "nats" / "ports"
    ports.mkdir(parents=True)
    gone = ports / "nats-server_999999999.ports"  # a server that exited without tidying up
    gone.write_text(json.dumps({"nats": ["nats://127.0.0.1:1"]}))
    args = parser().parse_args(["--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        nats_url(args)
    (ports / f"nats-server_{os.getpid()}.ports").write_text(
        json.dumps({"nats": ["nats://127.0.0.1:4999"]})
    )
    assert nats_url(args) == "nats://127.0.0.1:4999"
    given = parser().parse_args(["--data-dir", str(tmp_path), "--nats-url", "nats://x:1"])
    assert nats_url(given) == "nats://x:1"
