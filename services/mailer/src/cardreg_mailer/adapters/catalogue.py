"""The mails' texts, read once at start-up from gettext catalogues shipped in the package.

`locales/mail.pot` is the zh-TW source and `locales/<lang>/LC_MESSAGES/mail.po` each other
language of `Language`: an entry's `msgctxt` is the key the templates name, its `msgid` the
zh-TW text, its `msgstr` the translation (docs/languages.md). A missing, empty or fuzzy
translation falls back to the zh-TW text, as gettext does; `cardreg catalogues --check` keeps
that from shipping. A language without a catalogue stops start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from babel.messages.pofile import read_po
from cardreg_shared.models.common import Language

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "mail"
SOURCE_LANGUAGE: Language = "zh-TW"


class UnknownText(KeyError):
    """A template named a key the catalogue does not have: a bug, caught by the tests."""


@dataclass(frozen=True)
class Catalogue:
    """Every text in every language: `texts[language][key]`."""

    texts: dict[str, dict[str, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def text(self, language: str, key: str) -> str:
        try:
            return self.texts[language][key]
        except KeyError:
            raise UnknownText(f"{language} {key}") from None


def load_catalogue(locales: Path = LOCALES, domain: str = DOMAIN) -> Catalogue:
    with (locales / f"{domain}.pot").open("rb") as f:
        source = {m.context: m.id for m in read_po(f) if m.id}
    texts = {SOURCE_LANGUAGE: source}
    for language in get_args(Language):
        if language == SOURCE_LANGUAGE:
            continue
        path = locales / language.replace("-", "_") / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as f:
            translated = {
                m.context: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy
            }
        texts[language] = {key: translated.get(key, text) for key, text in source.items()}
    return Catalogue(texts)
