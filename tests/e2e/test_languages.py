"""A foreign resident's mail in their language, end to end: the account's language set at
registration or with PATCH /api/v1/account, every mail (reset link, notices) written in it as
the real mail catcher of `cardreg up` receives it, whichever way the reset was asked for."""

from __future__ import annotations

import re

import pytest
from cardreg_mailer.adapters.catalogue import load_catalogue

from .system import body_text, reset_token

PASSWORD = "tea-mountain-harbour"
NEW_PASSWORD = "river-lantern-orchid"
TEXTS = load_catalogue()


def subject(language: str, key: str) -> str:
    return TEXTS.text(language, key)


def assert_written_in(mail, language: str, subject_key: str) -> None:
    assert mail["Content-Language"] == language
    assert str(mail["Subject"]) == subject(language, subject_key)
    assert TEXTS.text(language, "mail.footer") in body_text(mail)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("language", ["vi", "id", "th"])
def test_a_foreign_residents_reset_mail_and_notice_are_in_their_language(
    portal, people, mailbox, language
):
    me = people.foreigner()
    address = f"{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=address, language=language).status_code == 201

    assert portal.forgot(me).status_code == 202
    (reset,) = mailbox.wait_for(address)
    assert_written_in(reset, language, "mail.password_reset.subject")
    link = re.search(r"https?://\S+/reset-password\?\S+", body_text(reset)).group(0)
    assert link.endswith(f"&lang={language}")  # the page opens in the mail's language
    assert portal.complete(reset_token(reset), NEW_PASSWORD).status_code == 204

    notice = mailbox.wait_for(address, count=2)[1]
    assert_written_in(notice, language, "mail.password_changed.subject.reset")


def test_without_an_email_on_file_the_reset_still_goes_out_in_the_accounts_language(
    portal, people, mailbox
):
    me = people.foreigner()
    assert portal.register(me, PASSWORD, language="th").status_code == 201
    address = f"given-{me.card.card_no}@example.com"
    reply = portal.forgot(me, residence=me.residence.model_dump(mode="json"), email=address)
    assert reply.status_code == 202
    assert_written_in(mailbox.wait_for(address)[0], "th", "mail.password_reset.subject")


def test_a_changed_language_applies_to_the_next_mail(portal, people, mailbox):
    me = people.foreigner()
    old, new = f"old-{me.card.card_no}@example.com", f"new-{me.card.card_no}@example.com"
    assert portal.register(me, PASSWORD, email=old, language="vi").status_code == 201
    bearer = portal.bearer(me, PASSWORD)

    changed = portal.http.patch("/api/v1/account", json={"language": "id"}, headers=bearer)
    assert (changed.status_code, changed.json()["language"]) == (200, "id")
    moved = portal.http.patch("/api/v1/account", json={"email": new}, headers=bearer)
    assert moved.status_code == 200
    (notice,) = mailbox.wait_for(old)
    assert_written_in(notice, "id", "mail.email_changed.subject")
    for wrong in ("fr", "vi-VN", None):
        refused = portal.http.patch("/api/v1/account", json={"language": wrong}, headers=bearer)
        assert refused.status_code == 400
