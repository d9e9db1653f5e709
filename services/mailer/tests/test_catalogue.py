"""The mail catalogue as the mailer loads it: every language of the contract, each text by
key, gettext's fallback to the zh-TW source for an untranslated or fuzzy entry."""

from __future__ import annotations

import shutil
from typing import get_args

import pytest
from cardreg_mailer.adapters.catalogue import LOCALES, load_catalogue
from cardreg_shared.models.common import Language


def test_every_language_has_every_key():
    catalogue = load_catalogue()
    assert catalogue.languages == get_args(Language)
    keys = set(catalogue.texts["zh-TW"])
    assert "mail.password_reset.subject" in keys
    for language in catalogue.languages:
        assert set(catalogue.texts[language]) == keys, language
    assert catalogue.text("zh-TW", "mail.greeting") == "您好："
    assert catalogue.text("vi", "mail.greeting") == "Xin chào,"


def test_an_untranslated_or_fuzzy_entry_falls_back_to_zh_tw(tmp_path):
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    po = locales / "th" / "LC_MESSAGES" / "mail.po"
    text = po.read_text(encoding="utf-8")
    greeting = 'msgctxt "mail.greeting"\nmsgid "您好："\nmsgstr "เรียน ผู้ใช้บริการ"'
    assert greeting in text
    footer = text.index('msgctxt "mail.footer"')
    text = text[:footer] + "#, fuzzy\n" + text[footer:]
    po.write_text(text.replace(greeting, greeting.replace("เรียน ผู้ใช้บริการ", "")), "utf-8")
    catalogue = load_catalogue(locales)
    assert catalogue.text("th", "mail.greeting") == "您好："
    assert catalogue.text("th", "mail.footer") == catalogue.text("zh-TW", "mail.footer")
    assert catalogue.text("th", "mail.not_you") != catalogue.text("zh-TW", "mail.not_you")


def test_a_language_without_a_catalogue_stops_the_load(tmp_path):
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    (locales / "id" / "LC_MESSAGES" / "mail.po").unlink()
    with pytest.raises(FileNotFoundError):
        load_catalogue(locales)
