"""Settings from the environment: shared variables, per-service overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from cardreg_identity.domain.guessing import GuessPolicy
from cardreg_identity.settings import IdentitySettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATS_URL", "DATA_DIR", "DB_PATH", "GUESS_LIMIT", "LOCK_SECONDS"):
        monkeypatch.delenv(f"CARDREG_IDENTITY_{name}", raising=False)


def test_shared_variables_and_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARDREG_NATS_URL", "nats://nats.example:4222")
    monkeypatch.setenv("CARDREG_DATA_DIR", str(tmp_path))
    settings = IdentitySettings()
    assert settings.nats_url == "nats://nats.example:4222"
    assert settings.database == tmp_path / "identity.db"
    assert settings.guess_policy == GuessPolicy(5, 900, 86400)


def test_identity_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARDREG_NATS_URL", "nats://shared:4222")
    monkeypatch.setenv("CARDREG_IDENTITY_NATS_URL", "nats://own:4222")
    monkeypatch.setenv("CARDREG_IDENTITY_DB_PATH", str(tmp_path / "elsewhere.db"))
    monkeypatch.setenv("CARDREG_IDENTITY_GUESS_LIMIT", "3")
    settings = IdentitySettings()
    assert settings.nats_url == "nats://own:4222"
    assert settings.database == tmp_path / "elsewhere.db"
    assert settings.guess_policy.limit == 3


def test_keyword_arguments_for_tests(tmp_path: Path) -> None:
    settings = IdentitySettings(nats_url="nats://x:1", data_dir=tmp_path, lock_seconds=60)
    assert (settings.nats_url, settings.database) == ("nats://x:1", tmp_path / "identity.db")
    assert settings.guess_policy.base_seconds == 60
