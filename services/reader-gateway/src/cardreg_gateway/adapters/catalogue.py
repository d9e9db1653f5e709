"""The portal's texts, read once at start-up from gettext catalogues shipped in the package.

`locales/portal.pot` is the zh-TW source and `locales/<lang>/LC_MESSAGES/portal.po` each other
language of `Language`: an entry's `msgctxt` is the key the portal's code names, its `msgid`
the zh-TW text, its `msgstr` the translation (docs/languages.md). A missing, empty or fuzzy
translation falls back to the zh-TW text, as gettext does; `cardreg catalogues --check` keeps
that from shipping. A language without a catalogue stops start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import get_args

from babel.messages.pofile import read_po
from cardreg_shared.models.common import Language

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "portal"
SOURCE_LANGUAGE: Language = "zh-TW"


@dataclass(frozen=True)
class Catalogue:
    """Every text in every language: `texts[language][key]`."""

    texts: dict[str, dict[str, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def text(self, language: str, key: str) -> str:
        return self.texts[language][key]


@cache  # once per process: every app (and every test replica) serves the same files
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
