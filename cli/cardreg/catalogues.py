"""`cardreg catalogues --check | --update`: the gettext catalogues of every text a person reads.

Each text lives in one catalogue domain, owned by the service that shows it:

    portal  services/reader-gateway/src/cardreg_gateway/locales/  pages, reader remedies, API errors
    mail    services/mailer/src/cardreg_mailer/locales/           mail subjects and bodies

A domain is `<domain>.pot`, the zh-TW source, plus `<lang>/LC_MESSAGES/<domain>.po` for every
other language of `cardreg_shared.models.common.Language`. Each entry's `msgctxt` is its key
(what the code names), its `msgid` the zh-TW text, its `msgstr` the translation; `{name}`
marks a placeholder the code fills in.

`--check` (the test command runs it) fails, naming every problem, unless each language has
exactly the template's keys, each translated (not empty, not fuzzy) from the template's
current zh-TW text, with the same placeholders. `--update` brings every language file in line
with an edited template: new keys come in untranslated, removed keys go, and an entry whose
zh-TW text changed is marked fuzzy with the text it was translated from (`#| msgid`), for a
translator to review. See docs/languages.md.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, unescape, write_po
from cardreg_shared.models.common import Language

SOURCE_LANGUAGE = "zh-TW"
KEY = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
CONTEXT_LINE = re.compile(r'^msgctxt "(.*)"$', re.MULTILINE)
PREVIOUS = "| msgid "
HEADER_COMMENT = "# {name} texts of cardreg ({domain}), translated from zh-TW ({domain}.pot)."
UNREVIEWED = "\n# Not yet reviewed by a native speaker: see docs/languages.md."
NAMES = {"en": "English", "vi": "Vietnamese", "id": "Indonesian", "th": "Thai"}


@dataclass(frozen=True)
class Domain:
    name: str
    locales: Path

    @property
    def template(self) -> Path:
        return self.locales / f"{self.name}.pot"

    def translation(self, language: str) -> Path:
        return self.locales / _gettext_locale(language) / "LC_MESSAGES" / f"{self.name}.po"


def domains() -> tuple[Domain, ...]:
    from cardreg_gateway.adapters import catalogue as portal
    from cardreg_mailer.adapters import catalogue as mail

    return (Domain(portal.DOMAIN, portal.LOCALES), Domain(mail.DOMAIN, mail.LOCALES))


def languages() -> tuple[str, ...]:
    """Every language but the source, in the contract's order."""
    return tuple(lang for lang in get_args(Language) if lang != SOURCE_LANGUAGE)


def _gettext_locale(language: str) -> str:
    return language.replace("-", "_")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _read(path: Path) -> tuple[Catalog, list[str]]:
    """The catalogue and the keys written more than once (gettext would keep only one)."""
    raw = path.read_bytes()
    repeated = Counter(CONTEXT_LINE.findall(raw.decode("utf-8")))
    catalog = read_po(io.BytesIO(raw))
    for message in _entries(catalog):
        _previous_from_comments(message)
    return catalog, sorted(key for key, n in repeated.items() if n > 1)


def _previous_from_comments(message: Message) -> None:
    # Babel reads a `#| msgid "..."` line (the text a fuzzy entry was translated from) as a
    # user comment "| msgid ..."; put it back where write_po writes it from.
    previous = [c for c in message.user_comments if c.startswith(PREVIOUS)]
    if previous:
        message.previous_id = [unescape(previous[0][len(PREVIOUS) :])]
        message.user_comments = [c for c in message.user_comments if not c.startswith(PREVIOUS)]


def _write(path: Path, catalog: Catalog) -> None:
    out = io.BytesIO()
    # No wrapping: one line per text keeps review diffs to the entry that changed.
    write_po(out, catalog, width=0, include_previous=True, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def check(all_domains: tuple[Domain, ...], langs: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    for domain in all_domains:
        problems += _check_domain(domain, langs)
    return problems


def _check_domain(domain: Domain, langs: tuple[str, ...]) -> list[str]:
    if not domain.template.is_file():
        return [f"{domain.name}: no template {domain.template}"]
    template, repeated = _read(domain.template)
    problems = [f"{domain.name} zh-TW: key {key!r} appears more than once" for key in repeated]
    source: dict[str, Message] = {}
    for message in _entries(template):
        key = message.context
        if key is None or not KEY.fullmatch(key):
            problems.append(
                f"{domain.name} zh-TW: {message.id[:40]!r} needs a key (msgctxt) like 'page.title'"
            )
            continue
        if message.string:
            problems.append(f"{domain.name} zh-TW: {key!r} has a msgstr; the template has none")
        source[key] = message
    for lang in langs:
        problems += [f"{domain.name} {lang}: {p}" for p in _check_language(domain, lang, source)]
    return problems


def _check_language(domain: Domain, lang: str, source: dict[str, Message]) -> list[str]:
    path = domain.translation(lang)
    if not path.is_file():
        return [f"no catalogue {path}; run `cardreg catalogues --update`, then translate it"]
    catalog, repeated = _read(path)
    problems = [f"key {key!r} appears more than once" for key in repeated]
    if catalog.locale_identifier != _gettext_locale(lang):
        problems.append(f"its Language header says {catalog.locale_identifier!r}")
    found = {m.context: m for m in _entries(catalog)}
    for key, original in source.items():
        message = found.get(key)
        if message is None:
            problems.append(
                f"{key!r} is missing; run `cardreg catalogues --update`, then translate it"
            )
        elif message.id != original.id:
            problems.append(
                f"{key!r} was translated from an older zh-TW text; "
                "run `cardreg catalogues --update` and review it"
            )
        elif message.fuzzy:
            problems.append(f"{key!r} is marked fuzzy: review the translation, then unmark it")
        elif not message.string:
            problems.append(f"{key!r} is not translated")
        elif placeholders(message.string) != placeholders(original.id):
            want = ", ".join(sorted(placeholders(original.id))) or "none"
            got = ", ".join(sorted(placeholders(message.string))) or "none"
            problems.append(f"{key!r} has placeholders {{{got}}} where zh-TW has {{{want}}}")
    for key in found.keys() - source.keys():
        problems.append(
            f"{key!r} is not in the template; remove it (`cardreg catalogues --update`)"
        )
    if catalog.obsolete:
        problems.append(
            "it keeps obsolete (#~) entries; remove them (`cardreg catalogues --update`)"
        )
    return problems


def update(all_domains: tuple[Domain, ...], langs: tuple[str, ...]) -> list[Path]:
    """Rewrite every language file from its template; returns the files that changed."""
    changed = []
    for domain in all_domains:
        template, _ = _read(domain.template)
        for lang in langs:
            path = domain.translation(lang)
            before = path.read_bytes() if path.is_file() else None
            _write(path, _merged(template, _existing(domain, lang, path)))
            if path.read_bytes() != before:
                changed.append(path)
    return changed


def _existing(domain: Domain, lang: str, path: Path) -> Catalog:
    if path.is_file():
        return _read(path)[0]
    return Catalog(
        locale=_gettext_locale(lang),
        domain=domain.name,
        header_comment=HEADER_COMMENT.format(name=NAMES.get(lang, lang), domain=domain.name)
        + ("" if lang == "en" else UNREVIEWED),
        project="cardreg",
        version=domain.name,
        copyright_holder="cardreg",
        msgid_bugs_address="see docs/languages.md",
        last_translator="cardreg",
        language_team="none yet",
        fuzzy=False,
    )


def _merged(template: Catalog, catalog: Catalog) -> Catalog:
    """`catalog` (its header kept) with the template's entries, in the template's order."""
    by_key = {m.context: m for m in _entries(catalog)}
    for message in _entries(catalog):
        catalog.delete(message.id, message.context)
    catalog.obsolete.clear()
    for original in _entries(template):
        old = by_key.get(original.context)
        flags = set(original.flags) - {"fuzzy"}
        string, previous, comments = "", (), ()
        if old is not None:
            string, comments = old.string, old.user_comments
            if old.id != original.id:
                flags.add("fuzzy")
                previous = (old.id,)
            elif old.fuzzy:
                flags.add("fuzzy")
                previous = old.previous_id
        catalog.add(
            original.id,
            string,
            context=original.context,
            flags=flags,
            auto_comments=original.auto_comments,
            user_comments=comments,
            previous_id=previous,
        )
    return catalog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cardreg catalogues", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="fail on any incomplete language")
    action.add_argument("--update", action="store_true", help="merge the templates into each .po")
    args = parser.parse_args(argv)
    all_domains, langs = domains(), languages()
    if args.update:
        for path in update(all_domains, langs):
            print(f"updated {path}")
    problems = check(all_domains, langs)
    if problems:
        print(f"catalogues: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 0 if args.update else 1
    counts = ", ".join(f"{d.name} {len(_entries(_read(d.template)[0]))} keys" for d in all_domains)
    print(f"catalogues: {counts}; complete in {SOURCE_LANGUAGE}, {', '.join(langs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
