"""The sqlite store's multi-statement changes: reset tokens, password and profile changes with
their outbox rows, atomic and isolated from the concurrent single-statement writes."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cardreg_registry.adapters.migrations import MIGRATIONS
from cardreg_registry.adapters.sqlite_store import SqliteStore
from cardreg_registry.domain.accounts import Account, ProfileChange
from cardreg_registry.domain.outbox import OutboxMessage
from cardreg_registry.domain.reset_tokens import ResetToken, hash_reset_secret
from cardreg_registry.domain.sessions import Session

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def account(**changes) -> Account:
    base = Account(
        account_id="acc-1",
        person_id="person-1",
        kind="citizen",
        id_no_masked="A12*****89",
        bound_card_no="000011112222",
        password_hash="$argon2id$old",
        email=None,
        phone=None,
        status="active",
        channel="online",
        failed_logins=0,
        locked_until=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def token(secret: str, at: datetime = NOW, pending: str | None = None) -> ResetToken:
    return ResetToken(
        token_hash=hash_reset_secret(secret),
        account_id="acc-1",
        pending_email=pending,
        created_at=at,
        expires_at=at + timedelta(minutes=30),
    )


def message(n: int) -> OutboxMessage:
    return OutboxMessage("mail.password_reset", f"msg-{n:016d}", f'{{"n": {n}}}')


def rows(tmp_path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(tmp_path / "registry.db") as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
async def store(tmp_path):
    opened = await SqliteStore.open(tmp_path / "registry.db")
    await opened.add_account(account())
    yield opened
    await opened.close()


async def test_a_version_one_file_gains_language_tokens_and_outbox(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO accounts VALUES ('acc-0', 'p-0', 'citizen', 'A12*****89', "
            "'000011112222', '$argon2id$x', NULL, NULL, 'active', 'online', 0, NULL, ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
    store = await SqliteStore.open(path)
    try:
        assert (await store.account_by_id("acc-0")).language == "zh-TW"
    finally:
        await store.close()
    tables = {r[0] for r in rows(tmp_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"reset_tokens", "outbox"} <= tables
    assert rows(tmp_path, "PRAGMA user_version") == [(len(MIGRATIONS),)]


async def test_a_new_token_voids_the_older_unused_ones_with_its_mail(store, tmp_path):
    assert await store.issue_reset_token(token("one"), message(1), limit=3, since=NOW)
    later = NOW + timedelta(minutes=1)
    assert await store.issue_reset_token(token("two", later), message(2), limit=3, since=NOW)
    first, second = (
        await store.reset_token(hash_reset_secret("one")),
        await store.reset_token(hash_reset_secret("two")),
    )
    assert first.voided_at == later and not first.usable_at(NOW)
    assert second.usable_at(later)
    assert [m.message.msg_id for m in await store.pending_messages(10)] == [
        "msg-0000000000000001",
        "msg-0000000000000002",
    ]


async def test_over_the_limit_nothing_is_written(store, tmp_path):
    hour_ago = NOW - timedelta(hours=1)
    for n in range(3):
        at = NOW + timedelta(minutes=n)
        assert await store.issue_reset_token(
            token(f"t{n}", at), message(n), limit=3, since=hour_ago
        )
    over = token("t3", NOW + timedelta(minutes=5))
    assert not await store.issue_reset_token(over, message(3), limit=3, since=hour_ago)
    assert await store.reset_token(over.token_hash) is None
    assert len(await store.pending_messages(10)) == 3
    # The older three stay as they were: the refused one voided nothing.
    assert (await store.reset_token(hash_reset_secret("t2"))).voided_at is None
    assert await store.recent_reset_count("acc-1", NOW) == 2  # strictly after `since`


async def test_completion_is_all_or_nothing_and_single_use(store, tmp_path):
    await store.add_session(Session("jti-a", "acc-1", NOW, NOW + timedelta(hours=1)))
    await store.record_failed_login("acc-1", 100)
    await store.issue_reset_token(
        token("s", pending="new@example.com"), message(1), limit=3, since=NOW
    )
    at = NOW + timedelta(minutes=5)
    results = await asyncio.gather(
        *(
            store.complete_reset(hash_reset_secret("s"), f"$argon2id${n}", at, message(10 + n))
            for n in range(5)
        )
    )
    assert sorted(results) == [False] * 4 + [True]
    after = await store.account_by_id("acc-1")
    assert after.email == "new@example.com" and after.failed_logins == 0
    assert after.updated_at == at
    session, _ = await store.session_with_account("jti-a")
    assert session.revoked_at == at
    # One notice only: the losers wrote nothing.
    assert len(await store.pending_messages(10)) == 2


async def test_an_expired_token_is_not_consumed(store):
    await store.issue_reset_token(token("s"), message(1), limit=3, since=NOW)
    late = NOW + timedelta(minutes=30)
    assert not await store.complete_reset(hash_reset_secret("s"), "$argon2id$new", late, None)
    assert (await store.account_by_id("acc-1")).password_hash == "$argon2id$old"


async def test_change_password_keeps_only_the_current_session(store):
    for jti in ("here", "there", "elsewhere"):
        await store.add_session(Session(jti, "acc-1", NOW, NOW + timedelta(hours=1)))
    revoked = await store.change_password("acc-1", "$argon2id$new", "here", NOW, message(1))
    assert revoked == 2
    live = {
        jti: (await store.session_with_account(jti))[0].revoked_at is None
        for jti in ("here", "there", "elsewhere")
    }
    assert live == {"here": True, "there": False, "elsewhere": False}
    assert (await store.account_by_id("acc-1")).password_hash == "$argon2id$new"


async def test_profile_plan_sees_the_account_inside_the_transaction(store):
    await store.update_profile(
        "acc-1", lambda a: ProfileChange("first@example.com", None, a.language), NOW
    )
    seen = []

    def plan(current: Account) -> ProfileChange:
        seen.append(current.email)
        return ProfileChange("second@example.com", "0912345678", "en", notice=message(1))

    updated = await store.update_profile("acc-1", plan, NOW + timedelta(seconds=1))
    assert seen == ["first@example.com"]
    assert (updated.email, updated.phone, updated.language) == (
        "second@example.com",
        "0912345678",
        "en",
    )
    assert len(await store.pending_messages(10)) == 1
    same = await store.update_profile(
        "acc-1", lambda a: ProfileChange(a.email, a.phone, a.language), NOW + timedelta(hours=1)
    )
    assert same.updated_at == NOW + timedelta(seconds=1)  # nothing changed, nothing written
    assert await store.update_profile("nobody", plan, NOW) is None


async def test_a_rolled_back_transaction_never_takes_a_concurrent_write_with_it(store):
    """Single-statement writes go on another connection than transactions: a rollback undoes
    only its own statements."""
    with pytest.raises(RuntimeError):
        async with store._transaction() as tx:
            await tx.execute_fetchall("UPDATE accounts SET phone = '0223456789'")
            failure = asyncio.create_task(store.record_failed_login("acc-1", 100))
            await asyncio.sleep(0.05)  # let the concurrent write reach sqlite
            raise RuntimeError("abort")
    assert await failure == 1
    after = await store.account_by_id("acc-1")
    assert (after.failed_logins, after.phone) == (1, None)


async def test_the_outbox_signal_is_set_only_by_commits_that_queue_mail(store):
    store.outbox_written.clear()
    await store.update_profile("acc-1", lambda a: ProfileChange(None, "0912345678", "en"), NOW)
    assert not store.outbox_written.is_set()
    await store.issue_reset_token(token("s"), message(1), limit=3, since=NOW)
    assert store.outbox_written.is_set()
