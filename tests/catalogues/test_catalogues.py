"""`cardreg catalogues`: the shipped catalogues are complete in every language, and the check
names each way a language can fall behind its zh-TW source; `--update` merges an edited
template into every language the way a translator needs it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cardreg.catalogues import Domain, check, domains, languages, update

from ..e2e.system import CARDREG

LANGS = ("en", "vi", "id", "th")


def test_the_shipped_catalogues_are_complete_in_every_language():
    assert languages() == LANGS
    assert [d.name for d in domains()] == ["portal", "mail"]
    assert check(domains(), languages()) == []


def test_the_command_reports_the_shipped_catalogues_complete():
    done = subprocess.run(
        [str(CARDREG), "catalogues", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "complete in zh-TW, en, vi, id, th" in done.stdout


@pytest.fixture
def domain(tmp_path) -> Domain:
    """A copy of the mail catalogues to break."""
    real = next(d for d in domains() if d.name == "mail")
    shutil.copytree(real.locales, tmp_path / "locales")
    return Domain("mail", tmp_path / "locales")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def entry(key: str, msgid: str, msgstr: str) -> str:
    return f'msgctxt "{key}"\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n'


GREETING_TH = entry("mail.greeting", "您好：", "เรียน ผู้ใช้บริการ")
TIME_VI = entry("mail.taiwan_time", "{when}（臺灣時間）", "{when} (giờ Đài Loan)")


def test_a_complete_copy_passes(domain):
    assert check((domain,), LANGS) == []


def test_a_missing_key_and_a_stale_key(domain):
    po = domain.translation("th")
    edit(po, GREETING_TH, entry("mail.greeting_old", "您好：", "เรียน ผู้ใช้บริการ"))
    assert check((domain,), LANGS) == [
        "mail th: 'mail.greeting' is missing; run `cardreg catalogues --update`, then translate it",
        (
            "mail th: 'mail.greeting_old' is not in the template; remove it "
            "(`cardreg catalogues --update`)"
        ),
    ]


def test_placeholders_must_match_the_source(domain):
    edit(
        domain.translation("vi"),
        TIME_VI,
        entry("mail.taiwan_time", "{when}（臺灣時間）", "giờ {khi}"),
    )
    assert check((domain,), LANGS) == [
        "mail vi: 'mail.taiwan_time' has placeholders {khi} where zh-TW has {when}"
    ]


def test_untranslated_fuzzy_and_outdated_entries(domain):
    edit(domain.translation("th"), GREETING_TH, entry("mail.greeting", "您好：", ""))
    edit(domain.translation("vi"), TIME_VI, "#, fuzzy\n" + TIME_VI)
    edit(
        domain.template,
        'msgid "本信由「健保卡網路服務註冊」系統',
        'msgid "本信由「健保卡網路服務」系統',
    )
    problems = check((domain,), LANGS)
    assert "mail th: 'mail.greeting' is not translated" in problems
    assert (
        "mail vi: 'mail.taiwan_time' is marked fuzzy: review the translation, then unmark it"
        in problems
    )
    for lang in LANGS:
        assert (
            f"mail {lang}: 'mail.footer' was translated from an older zh-TW text; "
            "run `cardreg catalogues --update` and review it"
        ) in problems
    assert len(problems) == 2 + len(LANGS)


def test_the_template_needs_keys_once_each_and_no_translations(domain):
    text = domain.template.read_text(encoding="utf-8")
    text = text.replace('msgctxt "mail.greeting"\n', "", 1)
    text += '\nmsgctxt "mail.footer"\nmsgid "again"\nmsgstr ""\n'
    text += '\nmsgctxt "Mail.Title"\nmsgid "bad key"\nmsgstr ""\n'
    text += '\nmsgctxt "mail.extra"\nmsgid "有譯文"\nmsgstr "translated"\n'
    domain.template.write_text(text, encoding="utf-8")
    problems = check((domain,), ("en",))
    assert "mail zh-TW: key 'mail.footer' appears more than once" in problems
    assert "mail zh-TW: '您好：' needs a key (msgctxt) like 'page.title'" in problems
    assert "mail zh-TW: 'bad key' needs a key (msgctxt) like 'page.title'" in problems
    assert "mail zh-TW: 'mail.extra' has a msgstr; the template has none" in problems


def test_a_missing_file_a_wrong_language_header_and_obsolete_entries(domain):
    domain.translation("id").unlink()
    edit(domain.translation("th"), '"Language: th\\n"', '"Language: vi\\n"')
    with domain.translation("en").open("a", encoding="utf-8") as f:
        f.write('\n#~ msgctxt "mail.gone"\n#~ msgid "舊"\n#~ msgstr "old"\n')
    problems = check((domain,), LANGS)
    assert problems[0].startswith("mail en: it keeps obsolete (#~) entries")
    assert problems[1].startswith("mail id: no catalogue ")
    assert problems[2] == "mail th: its Language header says 'vi'"
    assert len(problems) == 3


def test_update_merges_an_edited_template_for_the_translators(domain):
    edit(domain.template, 'msgid "您好："', 'msgid "您好！"')
    edit(domain.template, 'msgctxt "mail.taiwan_time"', 'msgctxt "mail.local_time"')
    with domain.template.open("a", encoding="utf-8") as f:
        f.write('\nmsgctxt "mail.new"\nmsgid "新的文字 {n}"\nmsgstr ""\n')
    before = domain.translation("th").read_text(encoding="utf-8")

    changed = update((domain,), LANGS)

    assert sorted(p.parent.parent.name for p in changed) == sorted(LANGS)
    th = domain.translation("th").read_text(encoding="utf-8")
    # A changed source keeps the translation, marked fuzzy with the text it came from.
    assert (
        '#, fuzzy\n#| msgid "您好："\nmsgctxt "mail.greeting"\nmsgid "您好！"\n'
        'msgstr "เรียน ผู้ใช้บริการ"\n'
    ) in th
    # A renamed key is a new, untranslated entry; the old one is gone. New keys come in empty.
    assert 'msgctxt "mail.local_time"\nmsgid "{when}（臺灣時間）"\nmsgstr ""\n' in th
    assert 'msgctxt "mail.taiwan_time"' not in th
    assert 'msgctxt "mail.new"\nmsgid "新的文字 {n}"\nmsgstr ""\n' in th
    # The header and every untouched entry stay as they were.
    assert th.split("\n\n")[0] == before.split("\n\n")[0]
    assert (
        entry(
            "mail.not_you",
            "如果這不是您本人所為，請立即與我們聯繫。",
            "หากไม่ใช่คุณเป็นผู้ดำเนินการ กรุณาติดต่อเราทันที",
        )
        in th
    )
    problems = check((domain,), ("th",))
    assert problems == [
        "mail th: 'mail.greeting' is marked fuzzy: review the translation, then unmark it",
        "mail th: 'mail.local_time' is not translated",
        "mail th: 'mail.new' is not translated",
    ]
    assert update((domain,), LANGS) == []  # merging again changes nothing


def test_update_writes_a_new_language_from_the_template(domain):
    domain.translation("vi").unlink()
    [written] = update((domain,), LANGS)
    assert written == domain.translation("vi")
    text = written.read_text(encoding="utf-8")
    assert '"Language: vi\\n"' in text and "Not yet reviewed by a native speaker" in text
    assert 'msgctxt "mail.greeting"\nmsgid "您好："\nmsgstr ""\n' in text
