"""Reset tokens as the domain sees them: secret, hash, link, validity."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.domain.outbox import OutboxMessage, new_request_id
from cardreg_registry.domain.reset_tokens import (
    ResetPolicy,
    ResetToken,
    hash_reset_secret,
    new_reset_secret,
    reset_url,
)
from cardreg_shared.models.mail import PasswordChangedMail
from cardreg_shared.subjects import MAIL_EMAIL_CHANGED, MAIL_PASSWORD_CHANGED

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def test_secrets_are_256_bit_url_safe_and_distinct():
    secrets = {new_reset_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) == 43 and s.replace("-", "").replace("_", "").isalnum() for s in secrets)


def test_the_hash_is_sha256_hex_of_the_secret():
    assert hash_reset_secret("abc") == hashlib.sha256(b"abc").hexdigest()
    assert hash_reset_secret("abc") != hash_reset_secret("abd")


def test_the_link_is_built_from_the_configured_base():
    assert reset_url("https://nhi.example.tw/portal/", "tok-en_1") == (
        "https://nhi.example.tw/portal/reset-password?token=tok-en_1"
    )
    assert reset_url("http://127.0.0.1:8080", "t") == "http://127.0.0.1:8080/reset-password?token=t"


def test_a_token_is_usable_until_used_voided_or_expired():
    token = ResetToken("h", "acc", None, NOW, NOW + timedelta(minutes=30))
    assert token.usable_at(NOW + timedelta(minutes=29, seconds=59))
    assert not token.usable_at(NOW + timedelta(minutes=30))
    used = ResetToken("h", "acc", None, NOW, NOW + timedelta(minutes=30), used_at=NOW)
    voided = ResetToken("h", "acc", None, NOW, NOW + timedelta(minutes=30), voided_at=NOW)
    assert not used.usable_at(NOW) and not voided.usable_at(NOW)


def test_token_and_pending_email_stay_out_of_repr():
    token = ResetToken("secret-hash", "acc", "mei@example.com", NOW, NOW)
    assert "secret-hash" not in repr(token) and "mei@" not in repr(token)


def test_the_mail_says_whole_minutes():
    assert ResetPolicy(token_ttl=timedelta(minutes=30)).expires_in_minutes == 30
    assert ResetPolicy(token_ttl=timedelta(seconds=61)).expires_in_minutes == 2


def test_an_outbox_message_carries_the_request_id_and_checks_the_subject():
    mail = PasswordChangedMail(
        request_id=new_request_id(), to="mei@example.com", requested_at=NOW, how="reset"
    )
    message = OutboxMessage.mail(MAIL_PASSWORD_CHANGED, mail)
    assert (message.subject, message.msg_id) == ("mail.password_changed", mail.request_id)
    assert PasswordChangedMail.model_validate_json(message.payload) == mail
    assert "mei@" not in repr(message)
    with pytest.raises(TypeError):
        OutboxMessage.mail(MAIL_EMAIL_CHANGED, mail)
