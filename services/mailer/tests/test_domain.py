"""Pure rules: reading requests, their checks, the retry schedule, headers stable across resends."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
from cardreg_mailer.domain.envelope import RenderedMail, compose, from_header, message_id
from cardreg_mailer.domain.requests import (
    InvalidRequest,
    UnreadableRequest,
    check_request,
    parse_request,
)
from cardreg_mailer.domain.retry import RetryPolicy
from cardreg_shared.models.mail import PasswordChangedMail, PasswordResetMail

REQUESTED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def reset(**fields) -> PasswordResetMail:
    values = {
        "request_id": "r" * 22,
        "to": "mei.lin@example.com",
        "requested_at": REQUESTED,
        "reset_url": "https://portal.example/reset?token=abc",
        "expires_in_minutes": 30,
    }
    return PasswordResetMail(**{**values, **fields})


def test_backoff_doubles_with_jitter_up_to_the_cap():
    policy = RetryPolicy(base_seconds=1, cap_seconds=300, max_attempts=10)
    rng = random.Random(7)
    for attempts, step in [(1, 1), (2, 2), (3, 4), (5, 16), (9, 256), (10, 300), (30, 300)]:
        delays = [policy.delay(attempts, rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_attempts_are_exhausted_at_the_maximum():
    policy = RetryPolicy(base_seconds=1, cap_seconds=10, max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


def test_a_request_is_read_by_its_subject():
    mail = reset()
    assert parse_request("mail.password_reset", mail.model_dump_json().encode()) == mail
    changed = PasswordChangedMail(
        request_id="c" * 22, to="a@example.com", requested_at=REQUESTED, how="change"
    )
    assert parse_request("mail.password_changed", changed.model_dump_json().encode()) == changed


@pytest.mark.parametrize(
    ("subject", "data"),
    [
        ("mail.password_reset", b"not json"),
        ("mail.password_reset", b'{"kind": "password_reset"}'),
        ("mail.password_changed", reset().model_dump_json().encode()),  # body of another kind
        ("mail.unknown", reset().model_dump_json().encode()),
        ("mail.password_reset", reset().model_dump_json().encode()[:-1] + b', "x": 1}'),
        ("mail.password_reset", b"\xff\xfe"),
    ],
)
def test_anything_else_is_unreadable(subject, data):
    with pytest.raises(UnreadableRequest) as exc:
        parse_request(subject, data)
    assert "mei.lin" not in str(exc.value)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"to": "mei.lin@example.com\r\nBcc: all@example.com"}, "to"),
        ({"to": "Mei <mei.lin@example.com>"}, "to"),
        ({"to": "no-at-sign"}, "to"),
        ({"to": "a@b@example.com"}, "to"),
        ({"to": "mei@例子.台灣"}, "to"),
        ({"reset_url": "javascript:alert(1)"}, "reset_url"),
        ({"reset_url": "/reset?token=abc"}, "reset_url"),
        ({"reset_url": "https://portal.example/reset?token=a b"}, "reset_url"),
    ],
)
def test_requests_that_cannot_be_sent_as_they_stand(fields, bad):
    with pytest.raises(InvalidRequest) as exc:
        check_request(reset(**fields))
    assert exc.value.field == bad


def test_a_good_request_passes_the_checks():
    check_request(reset())
    check_request(reset(to="x@localhost", reset_url="http://127.0.0.1:8080/reset?token=a&b=c"))


def test_message_id_comes_from_the_request_and_the_sender_domain():
    assert message_id("abc", "cardreg <no-reply@mail.example>") == "<abc@mail.example>"
    assert message_id("abc", "no-reply@cardreg.localhost") == "<abc@cardreg.localhost>"


def read(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


SENDER = from_header("cardreg <no-reply@cardreg.localhost>")


def test_a_resend_is_byte_for_byte_the_same_mail():
    rendered = RenderedMail(subject="主旨", text="內文 https://x\n", html="<p>內文</p>\n")
    first = compose(reset(), rendered, SENDER)
    assert first == compose(reset(), rendered, SENDER)
    assert first.message_id == "<" + "r" * 22 + "@cardreg.localhost>"


def test_the_message_reads_back_with_the_standard_parser():
    subject = "「健保卡網路服務註冊」重設註冊密碼，一個相當長的主旨以便測試標頭折行是否正確處理"
    text = "內文 https://portal.example/reset?token=abc\n" * 40
    html = '<p>內文 &amp; <a href="https://portal.example/">連結</a></p>\n'
    mail = compose(reset(), RenderedMail(subject=subject, text=text, html=html), SENDER)
    message = read(mail.data)
    assert not message.defects
    assert message["Message-ID"] == mail.message_id
    assert message["Date"] == "Tue, 04 Mar 2025 05:06:07 +0000"
    assert message["From"] == "cardreg <no-reply@cardreg.localhost>"
    assert message["To"] == "mei.lin@example.com"
    assert message["Subject"] == subject
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "zh-TW"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("plain",)).get_content() == text
    assert message.get_body(("html",)).get_content() == html
    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 78
    assert b"\n" not in mail.data.replace(b"\r\n", b"")  # CRLF line ends only


def test_a_long_english_subject_and_a_non_ascii_sender_name_are_encoded():
    subject = "NHI Card Online Service Registration: your registration password was changed"
    rendered = RenderedMail(subject=subject, text="t\n", html="<p>h</p>\n")
    mail = compose(reset(), rendered, from_header("健保卡網路服務註冊 <no-reply@nhi.example>"))
    message = read(mail.data)
    assert message["Subject"] == subject
    assert message["From"] == "健保卡網路服務註冊 <no-reply@nhi.example>"
    assert mail.message_id == "<" + "r" * 22 + "@nhi.example>"
    assert mail.data.isascii()


def test_a_naive_request_time_is_taken_as_utc():
    rendered = RenderedMail(subject="s", text="t\n", html="<p>h</p>\n")
    mail = reset(requested_at=datetime(2025, 3, 4, 5, 6, 7))
    assert read(compose(mail, rendered, SENDER).data)["Date"].endswith("+0000")
