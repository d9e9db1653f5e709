"""The sqlite store on real files: migrations, accounts, failure counting, sessions."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.adapters.migrations import MIGRATIONS
from cardreg_registry.adapters.sqlite_store import SqliteStore
from cardreg_registry.domain.accounts import Account, DuplicateAccount
from cardreg_registry.domain.lockout import UNTIL_RESET
from cardreg_registry.domain.sessions import Session

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def account(n: int = 1, **changes) -> Account:
    base = Account(
        account_id=f"acc-{n}",
        person_id=f"person-{n}",
        kind="citizen",
        id_no_masked="A12*****89",
        bound_card_no="000011112222",
        password_hash="$argon2id$stub",
        email="mei@example.com",
        phone="0912345678",
        status="active",
        channel="online",
        failed_logins=0,
        locked_until=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


@pytest.fixture
async def store(tmp_path):
    opened = await SqliteStore.open(tmp_path / "registry.db")
    yield opened
    await opened.close()


async def test_new_file_is_migrated_in_wal_mode(tmp_path):
    path = tmp_path / "registry.db"
    store = await SqliteStore.open(path)
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "sessions"} <= tables


async def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "registry.db"
    store = await SqliteStore.open(path)
    await store.add_account(account())
    await store.close()
    store = await SqliteStore.open(path)
    try:
        assert await store.account_by_id("acc-1") == account()
    finally:
        await store.close()


async def test_a_file_from_newer_code_is_refused(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await SqliteStore.open(path)


async def test_account_round_trips_by_person_and_by_id(store):
    stored = account(locked_until=NOW + timedelta(minutes=15), failed_logins=5, email=None)
    await store.add_account(stored)
    assert await store.account_by_person("person-1") == stored
    assert await store.account_by_id("acc-1") == stored
    assert await store.account_by_person("person-2") is None


async def test_the_raw_id_number_has_no_column(store, tmp_path):
    await store.add_account(account())
    with sqlite3.connect(tmp_path / "registry.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(accounts)")}
    assert "id_no_masked" in columns and "id_no" not in columns


async def test_second_account_for_a_person_is_a_duplicate(store):
    await store.add_account(account(1))
    with pytest.raises(DuplicateAccount):
        await store.add_account(account(2, person_id="person-1"))
    assert (await store.account_by_person("person-1")).account_id == "acc-1"


async def test_concurrent_registrations_of_one_person_leave_one_account(store):
    outcomes = await asyncio.gather(
        *(store.add_account(account(n, person_id="same")) for n in range(10)),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, DuplicateAccount) for o in outcomes if o is not None)


async def test_failures_count_atomically_and_stop_at_the_limit(store):
    await store.add_account(account())
    counts = await asyncio.gather(*(store.record_failed_login("acc-1", 100) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    for _ in range(100):
        last = await store.record_failed_login("acc-1", 100)
    assert last == 100
    assert (await store.account_by_id("acc-1")).failed_logins == 100
    assert await store.record_failed_login("nobody", 100) == 0


async def test_lock_applies_only_to_the_failure_count_it_was_computed_for(store):
    await store.add_account(account())
    failures = [await store.record_failed_login("acc-1", 100) for _ in range(5)][-1]
    await store.lock("acc-1", NOW + timedelta(minutes=15), failures)
    assert (await store.account_by_id("acc-1")).locked_until == NOW + timedelta(minutes=15)

    # A success in between resets the count: a late lock for the old count is dropped.
    await store.record_login("acc-1", NOW)
    await store.lock("acc-1", UNTIL_RESET, failures)
    after = await store.account_by_id("acc-1")
    assert after.locked_until is None and after.failed_logins == 0


async def test_login_clears_failures_and_binds_a_newer_card_and_rehash(store):
    await store.add_account(account(failed_logins=3, locked_until=NOW))
    later = NOW + timedelta(days=2)
    await store.record_login("acc-1", later, card_no="000099998888", password_hash="$argon2id$new")
    after = await store.account_by_id("acc-1")
    assert (after.failed_logins, after.locked_until) == (0, None)
    assert after.bound_card_no == "000099998888"
    assert after.password_hash == "$argon2id$new"
    assert after.updated_at == later


async def test_plain_login_changes_neither_card_hash_nor_updated_at(store):
    await store.add_account(account(failed_logins=2))
    await store.record_login("acc-1", NOW + timedelta(days=1))
    after = await store.account_by_id("acc-1")
    assert after == account()


async def test_sessions_are_stored_revoked_once_and_joined_to_their_account(store):
    await store.add_account(account())
    session = Session(
        jti="j1", account_id="acc-1", issued_at=NOW, expires_at=NOW + timedelta(minutes=15)
    )
    await store.add_session(session)
    assert await store.session_with_account("j1") == (session, account())
    assert await store.session_with_account("j2") is None

    assert await store.revoke_session("j1", NOW) is True
    assert await store.revoke_session("j1", NOW) is False
    assert await store.revoke_session("unknown", NOW) is False
    revoked, _ = await store.session_with_account("j1")
    assert revoked.revoked_at == NOW and not revoked.live_at(NOW)


async def test_session_for_an_unknown_account_is_refused(store):
    session = Session(jti="j1", account_id="ghost", issued_at=NOW, expires_at=NOW)
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_session(session)


async def test_prune_drops_only_expired_sessions(store):
    await store.add_account(account())
    for jti, minutes in (("old", -30), ("live", 30)):
        expires = NOW + timedelta(minutes=minutes)
        await store.add_session(
            Session(jti=jti, account_id="acc-1", issued_at=NOW, expires_at=expires)
        )
    assert await store.prune_sessions(NOW) == 1
    assert await store.session_with_account("old") is None
    assert await store.session_with_account("live") is not None
