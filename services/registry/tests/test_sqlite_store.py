"""What only the sqlite storage has: the file, its schema versions and upgrades, WAL, the
registry secret's check, published rows without payload. Everything else a store must do is
the conformance suite in storage/."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.adapters.registry_secret import RegistrySecret
from cardreg_registry.adapters.sqlite.migrations import MIGRATIONS
from cardreg_registry.adapters.sqlite.unit_of_work import SqliteStorage, WrongSecret

from .storage.conftest import account, added, committed, message, read

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
SECRET = RegistrySecret(secrets.token_bytes(32))


async def opened(path, secret: RegistrySecret = SECRET) -> SqliteStorage:
    return await SqliteStorage.open(path, secret.sealer(), secret_check=secret.check_value)


def rows(path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()


async def test_new_file_is_migrated_in_wal_mode(tmp_path):
    path = tmp_path / "registry.db"
    store = await opened(path)
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "sessions", "reset_tokens", "outbox", "signing_keys"} <= tables


async def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "registry.db"
    store = await opened(path)
    await added(store, account())
    await store.close()
    store = await opened(path)
    try:
        assert await read(store) == account()
    finally:
        await store.close()


async def test_a_file_from_newer_code_is_refused(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await opened(path)


async def test_the_raw_id_number_has_no_column(tmp_path):
    store = await opened(tmp_path / "registry.db")
    await added(store, account(id_no_hash="f" * 64))
    await store.close()
    with sqlite3.connect(tmp_path / "registry.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(accounts)")}
    assert {"id_no_masked", "id_no_hash"} <= columns and "id_no" not in columns


async def test_another_secret_is_refused(tmp_path):
    path = tmp_path / "registry.db"
    await (await opened(path)).close()
    with pytest.raises(WrongSecret):
        await opened(path, RegistrySecret(secrets.token_bytes(32)))
    await (await opened(path)).close()  # the right one still opens it


async def test_private_keys_are_stored_sealed(tmp_path):
    from cardreg_registry.adapters.key_ring import new_signing_key

    path = tmp_path / "registry.db"
    store = await opened(path)
    key = new_signing_key(NOW)
    await committed(store, lambda uow: uow.keys.add(key))
    await store.close()
    ((stored,),) = rows(path, "SELECT private_key FROM signing_keys")
    assert key.private_key not in stored and len(stored) > len(key.private_key)


async def test_published_rows_keep_no_payload(tmp_path):
    path = tmp_path / "registry.db"
    store = await opened(path)
    try:
        await committed(store, lambda uow: [uow.outbox.add(message(n), NOW) for n in (1, 2)])
        first, _ = await store.outbox.claim("relay-a", 10, NOW, timedelta(seconds=30))
        await store.outbox.published([first.msg_id], NOW)
    finally:
        await store.close()
    stored = rows(path, "SELECT payload, published_at FROM outbox ORDER BY id")
    assert stored[0][0] == "" and stored[0][1] is not None
    assert stored[1][0] == message(2).payload and stored[1][1] is None


async def test_a_version_one_file_gains_everything_since(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO accounts VALUES ('acc-0', 'p-0', 'citizen', 'A12*****89', "
            "'000011112222', '$argon2id$x', NULL, NULL, 'active', 'online', 0, NULL, ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
    store = await opened(path)
    try:
        migrated = await read(store, "acc-0")
        assert migrated.language == "zh-TW" and migrated.id_no_hash is None
    finally:
        await store.close()
    tables = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"reset_tokens", "outbox", "signing_keys"} <= tables
    assert rows(path, "PRAGMA user_version") == [(len(MIGRATIONS),)]


async def test_a_version_two_file_keeps_its_sessions_tokens_and_outbox(tmp_path):
    """Sessions of tokens issued before the upgrade stay, named by their jti, with the scope
    those tokens carry; the reset tokens and the queued mail stay as they were."""
    path = tmp_path / "registry.db"
    stamp = NOW.isoformat(timespec="microseconds")
    later = (NOW + timedelta(minutes=15)).isoformat(timespec="microseconds")
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "\nPRAGMA user_version = 2;")
        db.execute(
            "INSERT INTO accounts VALUES ('acc-0', 'p-0', 'foreigner', 'A81*****89', "
            "'000011112222', '$argon2id$x', 'mei@example.com', NULL, 'active', 'online', 3, "
            "NULL, ?, ?, 'en')",
            (stamp, stamp),
        )
        db.execute("INSERT INTO sessions VALUES ('jti-0', 'acc-0', ?, ?, NULL)", (stamp, later))
        db.execute(
            "INSERT INTO reset_tokens VALUES ('hash-0', 'acc-0', NULL, ?, ?, NULL, NULL)",
            (stamp, later),
        )
        db.execute(
            "INSERT INTO outbox (subject, msg_id, payload, created_at) "
            "VALUES ('mail.password_reset', 'msg-0', '{}', ?)",
            (stamp,),
        )
    store = await opened(path)
    try:
        uow = store.unit_of_work()
        session, migrated = await uow.sessions.with_account("jti-0")
        assert (migrated.kind, migrated.failed_logins, migrated.language) == ("foreigner", 3, "en")
        assert (session.account_id, session.method, session.amr) == (
            "acc-0",
            "card+password",
            ("pwd", "sc"),
        )
        assert {s.value for s in session.scopes} == {"account"}
        assert (await uow.reset_tokens.by_hash("hash-0")).usable_at(NOW)
        (queued,) = await store.outbox.claim("relay-a", 10, NOW, timedelta(seconds=30))
        assert (queued.subject, queued.msg_id) == ("mail.password_reset", "msg-0")
    finally:
        await store.close()
    assert rows(path, "PRAGMA foreign_key_check") == []
    # The upgraded accounts table takes the five mail languages and nothing else.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE accounts SET language = 'th'")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE accounts SET language = 'fr'")


async def test_an_operators_totp_secret_is_sealed_in_the_file(tmp_path):
    from .storage.test_operators import enrolled, operator

    path = tmp_path / "registry.db"
    store = await opened(path)
    clerk = operator()
    await enrolled(store, clerk)
    await store.close()
    ((sealed,),) = rows(path, "SELECT totp_secret FROM operators")
    assert isinstance(sealed, bytes) and clerk.totp_secret.encode() not in sealed
    # Under another secret the file is refused before a sealed value is ever opened.
    with pytest.raises(WrongSecret):
        await opened(path, RegistrySecret(secrets.token_bytes(32)))
