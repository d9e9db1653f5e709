"""Settings from the environment: shared variables, the CARDREG_MAILER_ prefix, checked values."""

from __future__ import annotations

from pathlib import Path

import pytest
from cardreg_mailer.settings import MailerSettings
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARDREG_NATS_URL", "CARDREG_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name in MailerSettings.model_fields:
        monkeypatch.delenv(f"CARDREG_MAILER_{name.upper()}", raising=False)


def test_environment_and_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARDREG_NATS_URL", "nats://nats.example:4222")
    monkeypatch.setenv("CARDREG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARDREG_MAILER_SMTP_HOST", "smtp.example")
    monkeypatch.setenv("CARDREG_MAILER_SMTP_PORT", "2525")
    monkeypatch.setenv("CARDREG_MAILER_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("CARDREG_MAILER_SMTP_PASSWORD", "hunter2-smtp")
    settings = MailerSettings()
    assert settings.nats_url == "nats://nats.example:4222"
    assert settings.db_path == tmp_path / "mailer.db"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "smtp.example",
        2525,
        "starttls",
    )
    assert "hunter2" not in repr(settings)
    assert settings.smtp_password.get_secret_value() == "hunter2-smtp"
    assert settings.connections == 4 and settings.max_attempts == 10
    assert settings.sender_address == "no-reply@cardreg.localhost"
    policy = settings.retry_policy()
    assert (policy.base_seconds, policy.cap_seconds, policy.max_attempts) == (1.0, 300.0, 10)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mail_from", "cardreg"),
        ("mail_from", "cardreg <no-reply>"),
        ("smtp_security", "ssl"),
        ("connections", 0),
        ("ack_wait_seconds", 0.5),
    ],
)
def test_bad_values_stop_start_up(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        MailerSettings(**{name: value})
