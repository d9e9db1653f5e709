"""Every mail in every language, text and HTML: what each must say, in the catalogue's words
for its language, escaped where it must be, with the reset link opening the portal in it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from cardreg_mailer.adapters.catalogue import Catalogue, UnknownText, load_catalogue
from cardreg_mailer.adapters.templates import KINDS, LANGUAGES, TemplateRenderer
from cardreg_mailer.domain.links import in_language
from cardreg_shared.models.mail import (
    EmailChangedMail,
    PasswordChangedMail,
    PasswordResetMail,
    ReactivatedMail,
    SetupMail,
)
from markupsafe import escape

AT = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)  # 13:06 in Taiwan
URL = "https://portal.example/reset-password?token=Zm9v_YmFy-"
COMMON = {"request_id": "q" * 22, "to": "mei.lin@example.com", "requested_at": AT}
FOREIGN_RESIDENTS = ("vi", "id", "th")
TEXTS = load_catalogue()


def t(language: str, key: str, **values) -> str:
    return TEXTS.text(language, key).format(**values)


def h(language: str, key: str, **values) -> str:
    """The text as HTML shows it (escaped: English quotes "forgot registration password")."""
    return str(escape(t(language, key, **values)))


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    r = TemplateRenderer()
    r.load_all()
    return r


def reset(language: str, url: str = URL) -> PasswordResetMail:
    return PasswordResetMail(**COMMON, language=language, reset_url=url, expires_in_minutes=30)


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
        for channel in ("counter", "employer"):
            yield setup_mail(language, channel)
        yield ReactivatedMail(**COMMON, language=language)


SETUP_URL = "https://portal.example/setup?code=ABCDEFGHJKMNPQRSTVWX"


def setup_mail(language: str, channel: str) -> SetupMail:
    return SetupMail(
        **COMMON, language=language, setup_url=SETUP_URL, channel=channel,
        expires_on=date(2025, 3, 11),
    )  # fmt: skip


def test_the_five_languages_and_every_kind():
    assert LANGUAGES == ("zh-TW", "en", "vi", "id", "th")
    assert {mail.kind for mail in every_mail()} == set(KINDS)


def test_every_mail_renders_in_every_language(renderer):
    for mail in every_mail():
        rendered = renderer.render(mail)
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.text.strip() and rendered.html.startswith("<!DOCTYPE html>")
        assert f'<html lang="{mail.language}">' in rendered.html
        assert f"<title>{rendered.subject}</title>" in rendered.html
        assert "mei.lin" not in rendered.text + rendered.html  # never the recipient's address
        assert not re.search(r"\{[a-z_]+\}", rendered.text + rendered.html), mail
        assert "<" not in rendered.text
        footer = t(mail.language, "mail.footer")
        assert rendered.text.rstrip().endswith(footer)
        assert h(mail.language, "mail.footer") in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_mail_says_its_catalogue_texts_in_its_language(renderer, language):
    mail = renderer.render(reset(language))
    assert mail.subject == t(language, "mail.password_reset.subject")
    for key in ("mail.greeting", "mail.password_reset.intro.text", "mail.password_reset.unasked"):
        assert t(language, key) in mail.text, key
    assert t(language, "mail.password_reset.expiry", minutes=30) in mail.text
    for key in ("mail.password_reset.title", "mail.password_reset.intro.html"):
        assert h(language, key) in mail.html, key
    assert h(language, "mail.password_reset.button") in mail.html

    when = t(language, "mail.taiwan_time", when="2025-03-04 13:06")
    for how in ("reset", "change"):
        notice = renderer.render(changed(language, how))
        assert notice.subject == t(language, f"mail.password_changed.subject.{how}")
        assert t(language, f"mail.password_changed.body.{how}", when=when) in notice.text
        assert t(language, "mail.password_changed.not_you") in notice.text

    moved = renderer.render(email_changed(language, "n***@example.org"))
    assert moved.subject == t(language, "mail.email_changed.subject")
    body = t(language, "mail.email_changed.body.changed", when=when, address="n***@example.org")
    assert body in moved.text
    removed = renderer.render(email_changed(language, None))
    assert t(language, "mail.email_changed.body.removed", when=when) in removed.text
    assert "***" not in removed.text and "None" not in removed.text


@pytest.mark.parametrize(
    ("language", "phrases"),
    [
        ("zh-TW", ["健保卡網路服務註冊", "忘記註冊密碼", "30 分鐘", "請忽略本信"]),
        ("en", ["NHI Card Online Service Registration", "30 minutes", "ignore this message"]),
        ("vi", ["thẻ bảo hiểm y tế (NHI)", "Quên mật khẩu đăng ký", "30 phút"]),
        ("id", ["Kartu NHI", "Lupa kata sandi pendaftaran", "30 menit"]),
        ("th", ["บัตรประกันสุขภาพ NHI", "ลืมรหัสผ่านลงทะเบียน", "30 นาที"]),
    ],
)
def test_the_reset_mail_uses_the_terms_people_know(renderer, language, phrases):
    rendered = renderer.render(reset(language))
    for phrase in phrases:
        assert phrase in rendered.text and phrase in rendered.html, phrase


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reset_link_opens_the_portal_in_the_mails_language(renderer, language):
    rendered = renderer.render(reset(language))
    link = f"{URL}&lang={language}"
    assert link in rendered.text.split()
    # In HTML the link is escaped (& -> &amp;), which a browser reads back as the same URL.
    assert rendered.html.count(f'href="{link.replace("&", "&amp;")}"') == 2
    assert link not in rendered.html


def test_the_link_keeps_everything_but_an_old_lang():
    assert in_language(URL, "th") == f"{URL}&lang=th"
    assert in_language(f"{URL}&lang=zh-TW", "vi") == f"{URL}&lang=vi"
    assert in_language("https://p.example/r?lang=en&token=a%2Bb&x", "id") == (
        "https://p.example/r?token=a%2Bb&x&lang=id"
    )
    assert in_language("https://p.example/r", "en") == "https://p.example/r?lang=en"


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
    marker = t(language, "mail.password_changed.not_you")
    for rendered in (by_reset, by_change):
        assert marker in rendered.text
        assert h(language, "mail.password_changed.not_you") in rendered.html
        assert "13:06" in rendered.text  # the time in Taiwan
        assert "<strong>2025-03-04 13:06</strong>" in rendered.html
    if language == "zh-TW":
        assert "【註冊密碼變更】" in by_change.text and "如果這不是您本人所為" in marker
    if language == "en":
        assert "[Change registration password]" in by_change.text
        assert marker.startswith("If this was not you")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_change_notice_shows_the_new_address_masked(renderer, language):
    rendered = renderer.render(email_changed(language, "n***@example.org"))
    assert "n***@example.org" in rendered.text
    assert "<strong>n***@example.org</strong>" in rendered.html


@pytest.mark.parametrize("language", ["en", "th"])
def test_html_escapes_what_it_is_given_and_text_keeps_it(renderer, language):
    rendered = renderer.render(email_changed(language, "<b>n***</b>@example.org"))
    assert "&lt;b&gt;n***&lt;/b&gt;@example.org" in rendered.html
    assert "<b>n***" not in rendered.html
    assert "<b>n***</b>@example.org" in rendered.text


def test_a_text_is_escaped_in_html_even_if_a_translation_holds_markup():
    texts = {lang: dict(TEXTS.texts[lang]) for lang in LANGUAGES}
    texts["vi"]["mail.greeting"] = "<script>x</script> & chào"
    rendered = TemplateRenderer(catalogue=Catalogue(texts)).render(reset("vi"))
    assert "<p>&lt;script&gt;x&lt;/script&gt; &amp; chào</p>" in rendered.html
    assert "<script>x</script> & chào" in rendered.text


def test_the_support_contact_appears_when_configured(renderer):
    assert "0800" not in renderer.render(changed("zh-TW", "change")).text
    with_contact = TemplateRenderer(support_contact="0800-030-598")
    for language in LANGUAGES:
        for mail in (changed(language, "change"), email_changed(language, None)):
            rendered = with_contact.render(mail)
            assert "0800-030-598" in rendered.text and "0800-030-598" in rendered.html


def test_a_language_without_texts_stops_start_up_and_an_unknown_key_is_an_error():
    partial = Catalogue({lang: TEXTS.texts[lang] for lang in ("zh-TW", "en")})
    with pytest.raises(RuntimeError, match="id, th, vi"):
        TemplateRenderer(catalogue=partial).load_all()
    with pytest.raises(UnknownText):
        TEXTS.text("vi", "mail.no_such_text")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_setup_mail_says_who_applied_and_links_in_the_language(renderer, language):
    for channel in ("counter", "employer"):
        mail = renderer.render(setup_mail(language, channel))
        assert mail.subject == t(language, "mail.setup.subject")
        assert t(language, f"mail.setup.intro.{channel}") in mail.text
        assert t(language, "mail.setup.expiry", day="2025-03-11") in mail.text
        assert in_language(SETUP_URL, language) in mail.text
        assert h(language, "mail.setup.button") in mail.html
    notice = renderer.render(ReactivatedMail(**COMMON, language=language))
    assert t(language, "mail.reactivated.body", when="2025-03-04 13:06") in notice.text
