"""Templates in both languages, text and HTML: what each mail must say, escaped where it must be."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cardreg_mailer.adapters.templates import KINDS, LANGUAGES, TemplateRenderer
from cardreg_shared.models.mail import EmailChangedMail, PasswordChangedMail, PasswordResetMail

AT = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)  # 13:06 in Taiwan
URL = "https://portal.example/reset?token=Zm9v_YmFy-&lang=zh-TW"
COMMON = {"request_id": "q" * 22, "to": "mei.lin@example.com", "requested_at": AT}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    r = TemplateRenderer()
    r.load_all()
    return r


def reset(language: str) -> PasswordResetMail:
    return PasswordResetMail(**COMMON, language=language, reset_url=URL, expires_in_minutes=30)


def changed(language: str, how: str) -> PasswordChangedMail:
    return PasswordChangedMail(**COMMON, language=language, how=how)


def email_changed(language: str, masked: str | None) -> EmailChangedMail:
    return EmailChangedMail(**COMMON, language=language, new_email_masked=masked)


def every_mail():
    for language in LANGUAGES:
        yield reset(language)
        yield changed(language, "reset")
        yield changed(language, "change")
        yield email_changed(language, "n***@example.org")
        yield email_changed(language, None)


def test_every_kind_has_both_languages(renderer):
    kinds = {mail.kind for mail in every_mail()}
    assert kinds == set(KINDS)
    for mail in every_mail():
        rendered = renderer.render(mail)
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.text.strip() and rendered.html.startswith("<!DOCTYPE html>")
        assert f'<html lang="{mail.language}">' in rendered.html
        assert "mei.lin" not in rendered.text + rendered.html  # never the recipient's address


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("zh-TW", ["健保卡網路服務註冊", "忘記註冊密碼", "30 分鐘", "請忽略本信"]),
        ("en", ["NHI Card Online Service Registration", "30 minutes", "ignore this message"]),
    ],
)
def test_the_reset_mail_gives_the_link_its_validity_and_what_to_do_if_unasked(
    renderer, language, phrases
):
    rendered = renderer.render(reset(language))
    for phrase in phrases:
        assert phrase in rendered.text and phrase in rendered.html
    assert URL in rendered.text.split()
    # In HTML the link is escaped (& -> &amp;), which a browser reads back as the same URL.
    assert f'href="{URL.replace("&", "&amp;")}"' in rendered.html
    assert URL not in rendered.html


def test_zh_tw_subjects_use_the_faq_terms(renderer):
    assert renderer.render(reset("zh-TW")).subject == "「健保卡網路服務註冊」重設註冊密碼"
    assert renderer.render(changed("zh-TW", "reset")).subject.endswith("註冊密碼已重設")
    assert renderer.render(changed("zh-TW", "change")).subject.endswith("註冊密碼已變更")
    assert renderer.render(email_changed("zh-TW", None)).subject.endswith("電子信箱已變更")


@pytest.mark.parametrize("language", LANGUAGES)
def test_reset_and_change_notices_differ_and_say_what_to_do_if_it_was_not_you(renderer, language):
    by_reset = renderer.render(changed(language, "reset"))
    by_change = renderer.render(changed(language, "change"))
    assert by_reset.text != by_change.text and by_reset.subject != by_change.subject
    marker = "如果這不是您本人所為" if language == "zh-TW" else "If this was not you"
    for rendered in (by_reset, by_change):
        assert marker in rendered.text and marker in rendered.html
        assert "13:06" in rendered.text  # the time in Taiwan
    assert ("【註冊密碼變更】" if language == "zh-TW" else "[Change registration password]") in (
        by_change.text
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_change_notice_shows_the_new_address_masked(renderer, language):
    rendered = renderer.render(email_changed(language, "n***@example.org"))
    assert "n***@example.org" in rendered.text and "n***@example.org" in rendered.html
    removed = renderer.render(email_changed(language, None))
    assert "***" not in removed.text and "None" not in removed.text


def test_html_escapes_what_it_is_given_and_text_keeps_it(renderer):
    rendered = renderer.render(email_changed("en", "<b>n***</b>@example.org"))
    assert "&lt;b&gt;n***&lt;/b&gt;@example.org" in rendered.html
    assert "<b>n***" not in rendered.html
    assert "<b>n***</b>@example.org" in rendered.text


def test_the_support_contact_appears_when_configured(renderer):
    assert "0800" not in renderer.render(changed("zh-TW", "change")).text
    with_contact = TemplateRenderer(support_contact="0800-030-598")
    for language in LANGUAGES:
        rendered = with_contact.render(changed(language, "change"))
        assert "0800-030-598" in rendered.text and "0800-030-598" in rendered.html
