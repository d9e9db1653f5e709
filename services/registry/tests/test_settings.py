"""Settings from the environment: the common variables and the CARDREG_REGISTRY_ prefix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cardreg_registry.settings import RegistrySettings
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "CARDREG_NATS_URL",
        "CARDREG_DATA_DIR",
        "CARDREG_PUBLIC_BASE_URL",
        "CARDREG_REGISTRY_PUBLIC_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_designed_ones():
    settings = RegistrySettings()
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (
        19456,
        2,
        1,
    )
    assert settings.token_ttl_seconds == 900
    assert settings.token_issuer == settings.token_audience == "cardreg"
    lockout = settings.lockout()
    assert (lockout.threshold, lockout.base, lockout.hard_limit) == (5, timedelta(minutes=15), 100)


def test_environment_configures_the_service(monkeypatch, tmp_path):
    monkeypatch.setenv("CARDREG_NATS_URL", "nats://nats.internal:4222")
    monkeypatch.setenv("CARDREG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARDREG_REGISTRY_TOKEN_TTL_SECONDS", "300")
    monkeypatch.setenv("CARDREG_REGISTRY_LOCKOUT_THRESHOLD", "3")
    settings = RegistrySettings()
    assert settings.nats_url == "nats://nats.internal:4222"
    assert settings.db_path == tmp_path / "registry.db"
    assert settings.signing_key_path == tmp_path / "registry-signing-key.pem"
    assert settings.token_ttl_seconds == 300
    assert settings.lockout().threshold == 3


def test_arguments_override_the_environment(monkeypatch):
    monkeypatch.setenv("CARDREG_NATS_URL", "nats://from-env:4222")
    settings = RegistrySettings(nats_url="nats://given:4222", data_dir=Path("/srv/cardreg"))
    assert settings.nats_url == "nats://given:4222"
    assert settings.db_path == Path("/srv/cardreg/registry.db")


@pytest.mark.parametrize(
    ("name", "value"),
    [("CARDREG_REGISTRY_ARGON2_TIME_COST", "0"), ("CARDREG_REGISTRY_TOKEN_TTL_SECONDS", "soon")],
)
def test_nonsense_values_fail_at_start_up(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        RegistrySettings()


def test_a_misspelt_argument_is_an_error():
    with pytest.raises(ValidationError):
        RegistrySettings(token_tll_seconds=10)


def test_recovery_defaults_are_the_designed_ones():
    settings = RegistrySettings()
    policy = settings.reset_policy()
    assert policy.public_base_url == "http://127.0.0.1:8080"
    assert policy.token_ttl == timedelta(minutes=30) and policy.expires_in_minutes == 30
    assert (policy.mails_per_window, policy.window) == (3, timedelta(hours=1))
    assert settings.outbox_poll_seconds == 1.0
    assert settings.outbox_retention_seconds == 86400


def test_public_base_url_from_the_registry_variable_then_the_common_one(monkeypatch):
    monkeypatch.setenv("CARDREG_PUBLIC_BASE_URL", "https://nhi.example.tw/")
    assert RegistrySettings().public_base_url == "https://nhi.example.tw"
    monkeypatch.setenv("CARDREG_REGISTRY_PUBLIC_BASE_URL", "https://registry.example.tw/portal")
    assert RegistrySettings().public_base_url == "https://registry.example.tw/portal"
    assert (
        RegistrySettings(public_base_url="http://given:8080").public_base_url == "http://given:8080"
    )


@pytest.mark.parametrize(
    "url", ["nhi.example.tw", "ftp://nhi.example.tw", "https://", "https://x.tw/?a=1", "/relative"]
)
def test_public_base_url_must_be_an_absolute_http_url(monkeypatch, url):
    monkeypatch.setenv("CARDREG_PUBLIC_BASE_URL", url)
    with pytest.raises(ValidationError):
        RegistrySettings()


def test_reset_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CARDREG_REGISTRY_RESET_TOKEN_TTL_SECONDS", "600")
    monkeypatch.setenv("CARDREG_REGISTRY_RESET_MAIL_LIMIT", "5")
    monkeypatch.setenv("CARDREG_REGISTRY_RESET_MAIL_WINDOW_SECONDS", "7200")
    policy = RegistrySettings().reset_policy()
    assert (policy.token_ttl, policy.mails_per_window, policy.window) == (
        timedelta(minutes=10),
        5,
        timedelta(hours=2),
    )
    monkeypatch.setenv("CARDREG_REGISTRY_RESET_MAIL_WINDOW_SECONDS", "172800")  # > a day
    with pytest.raises(ValidationError):
        RegistrySettings()
