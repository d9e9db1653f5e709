"""The five account languages (zh-TW, en, vi, id, th): stored, kept through the schema
change that admitted vi/id/th, and carried on every mail the account gets."""

from __future__ import annotations

import sqlite3
from typing import get_args

import pytest
from cardreg_registry.adapters.migrations import MIGRATIONS
from cardreg_registry.adapters.sqlite_store import SqliteStore
from cardreg_registry.domain.accounts import ProfileChange
from cardreg_shared.models.common import Language

from .conftest import PASSWORD, db_rows
from .test_store_resets import NOW, account, message, token

FOREIGN_RESIDENTS = ("vi", "id", "th")


def test_the_contract_has_the_five_languages():
    assert get_args(Language) == ("zh-TW", "en", "vi", "id", "th")


async def test_a_version_two_file_keeps_its_rows_and_takes_the_new_languages(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "\nPRAGMA user_version = 2;")
        db.execute(
            "INSERT INTO accounts VALUES ('acc-1', 'p-1', 'foreigner', 'A80*****89', "
            "'000011112222', '$argon2id$x', 'mai@example.com', NULL, 'active', 'online', 2, "
            "NULL, ?, ?, 'en')",
            (NOW.isoformat(), NOW.isoformat()),
        )
        db.execute(
            "INSERT INTO sessions VALUES ('jti-1', 'acc-1', ?, ?, NULL)",
            (NOW.isoformat(), NOW.isoformat()),
        )
    store = await SqliteStore.open(path)
    try:
        kept = await store.account_by_id("acc-1")
        assert (kept.language, kept.email, kept.failed_logins) == ("en", "mai@example.com", 2)
        assert await store.issue_reset_token(token("one"), message(1), limit=3, since=NOW)
        changed = await store.update_profile(
            "acc-1", lambda a: ProfileChange(a.email, a.phone, "vi"), NOW
        )
        assert changed.language == "vi"
    finally:
        await store.close()
    assert db_rows(tmp_path, "SELECT jti, account_id FROM sessions") == [("jti-1", "acc-1")]
    assert db_rows(tmp_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    assert db_rows(tmp_path, "PRAGMA foreign_key_check") == []
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE accounts SET language = 'fr'")


@pytest.mark.parametrize("language", get_args(Language))
async def test_every_language_is_stored(tmp_path, language):
    store = await SqliteStore.open(tmp_path / "registry.db")
    try:
        await store.add_account(account(language=language))
        assert (await store.account_by_id("acc-1")).language == language
    finally:
        await store.close()


@pytest.mark.parametrize("language", FOREIGN_RESIDENTS)
async def test_a_foreign_residents_mail_goes_out_in_their_language(
    api, identity, mail_stream, language
):
    me = identity.enrol("foreigner")
    await api.register(me, email="worker@example.com", language=language)
    token_ = (await api.login(me)).access_token
    assert (await api.account(token_)).language == language

    await api.forgot(me)
    subject, reset = await mail_stream.next_mail()
    assert (subject, reset.language) == ("mail.password_reset", language)

    other = "th" if language != "th" else "vi"
    assert (await api.update(token_, language=other)).language == other
    await api.change_password(token_, PASSWORD, "river-lantern-orchid")
    subject, notice = await mail_stream.next_mail()
    assert (subject, notice.language) == ("mail.password_changed", other)
