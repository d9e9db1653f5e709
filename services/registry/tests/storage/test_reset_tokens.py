"""Reset tokens and the changes that ride with them through the ports: a new token voids the
older ones, the limit is counted inside the commit, completion is all or nothing and single
use, a failed commit never takes a concurrent one with it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cardreg_registry.domain.accounts import Origin
from cardreg_registry.domain.reset_tokens import hash_reset_secret
from cardreg_registry.flows.ports import Conflict, ResetLimitReached, ResetTokenSpent

from .conftest import NOW, account, added, committed, message, read, reset_token, session
from .test_accounts import fail_once

LINK = Origin(channel="online", method="reset_link")
LEASE = timedelta(seconds=30)


@pytest.fixture
async def store(store):
    await added(store, account(email=None, phone=None, password_hash="$argon2id$old"))
    return store


def issue(uow, secret: str, n: int, at=NOW, pending=None, *, limit=3, since=NOW):
    uow.reset_tokens.issue(reset_token(secret, at, pending), limit=limit, since=since)
    uow.outbox.add(message(n), at)


async def mail_ids(store) -> list[str]:
    claimed = await store.outbox.claim("relay-1", 100, NOW, LEASE)
    return [m.msg_id for m in claimed if m.subject.startswith("mail.")]


async def complete(store, secret: str, password_hash: str, at, n: int) -> None:
    """What the completion flow commits: consume, reset, revoke every session, one notice."""
    async with store.unit_of_work() as uow:
        token = await uow.reset_tokens.by_hash(hash_reset_secret(secret))
        current = await uow.accounts.by_id(token.account_id)
        current.reset_password(password_hash, at, LINK, proven_email=token.pending_email)
        uow.reset_tokens.consume(token.token_hash, at)
        uow.accounts.save(current)
        uow.sessions.revoke_all(current.account_id, at)
        uow.outbox.add(message(n), at)
        await uow.commit()


async def test_a_new_token_voids_the_older_unused_ones_with_its_mail(store):
    await committed(store, lambda uow: issue(uow, "one", 1))
    later = NOW + timedelta(minutes=1)
    await committed(store, lambda uow: issue(uow, "two", 2, later))
    uow = store.unit_of_work()
    first = await uow.reset_tokens.by_hash(hash_reset_secret("one"))
    second = await uow.reset_tokens.by_hash(hash_reset_secret("two"))
    assert first.voided_at == later and not first.usable_at(NOW)
    assert second.usable_at(later)
    assert await mail_ids(store) == ["msg-0000000000000001", "msg-0000000000000002"]


async def test_over_the_limit_nothing_is_written(store):
    hour_ago = NOW - timedelta(hours=1)
    for n in range(3):
        at = NOW + timedelta(minutes=n)
        await committed(store, lambda uow, n=n, at=at: issue(uow, f"t{n}", n, at, since=hour_ago))
    with pytest.raises(ResetLimitReached):
        await committed(
            store, lambda uow: issue(uow, "t3", 3, NOW + timedelta(minutes=5), since=hour_ago)
        )
    uow = store.unit_of_work()
    assert await uow.reset_tokens.by_hash(hash_reset_secret("t3")) is None
    assert len(await mail_ids(store)) == 3
    # The older three stay as they were: the refused one voided nothing.
    assert (await uow.reset_tokens.by_hash(hash_reset_secret("t2"))).voided_at is None
    assert await uow.reset_tokens.recent_count("acc-1", NOW) == 2  # strictly after `since`


async def test_the_limit_holds_against_racing_requests(store, other_store):
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow, n=n: issue(uow, f"r{n}", n, since=NOW - timedelta(hours=1)))
            for n, s in enumerate([store, other_store] * 4)
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 3
    assert all(isinstance(o, ResetLimitReached) for o in outcomes if o is not None)
    assert len(await mail_ids(store)) == 3


async def test_completion_is_all_or_nothing_and_single_use(store, other_store):
    await committed(store, lambda uow: uow.sessions.add(session("jti-a")))
    await fail_once(store)
    await committed(store, lambda uow: issue(uow, "s", 1, pending="new@example.com"))
    at = NOW + timedelta(minutes=5)
    results = await asyncio.gather(
        *(
            complete(store if n % 2 else other_store, "s", f"$argon2id${n}", at, 10 + n)
            for n in range(5)
        ),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, ResetTokenSpent | Conflict) for r in results if r is not None)
    after = await read(store)
    assert after.email == "new@example.com" and after.failed_logins == 0
    assert after.updated_at == at
    revoked, _ = await store.unit_of_work().sessions.with_account("jti-a")
    assert revoked.revoked_at == at
    # One notice only: the losers wrote nothing.
    assert len(await mail_ids(store)) == 2


async def test_an_expired_token_is_not_consumed(store):
    await committed(store, lambda uow: issue(uow, "s", 1))
    late = NOW + timedelta(minutes=30)
    with pytest.raises(ResetTokenSpent):
        await complete(store, "s", "$argon2id$new", late, 2)
    assert (await read(store)).password_hash == "$argon2id$old"


async def test_a_failed_commit_never_takes_a_concurrent_one_with_it(store, other_store):
    """One commit changes the phone, then fails a guard; another counts a failure meanwhile.
    Only the failing commit's own writes are undone. Which of its guards fails first depends
    on how the two interleave (on a server with real concurrency the count may commit first:
    then the account's version guard does), never what is left."""
    uow = store.unit_of_work()
    current = await uow.accounts.by_id("acc-1")
    current.change_settings(NOW, LINK, email=None, phone="0223456789", language="zh-TW")
    uow.accounts.save(current)
    uow.reset_tokens.consume(hash_reset_secret("never issued"), NOW)
    failing = asyncio.ensure_future(uow.commit())
    counted = asyncio.ensure_future(fail_once(other_store))
    with pytest.raises((ResetTokenSpent, Conflict)):
        await failing
    assert await counted == 1
    after = await read(store)
    assert (after.failed_logins, after.phone) == (1, None)


async def test_prune_drops_tokens_expired_before_the_cut(store):
    await committed(store, lambda uow: issue(uow, "old", 1, NOW - timedelta(days=2)))
    await committed(store, lambda uow: issue(uow, "new", 2, NOW, since=NOW - timedelta(days=3)))
    async with store.unit_of_work() as uow:
        pruned = uow.reset_tokens.prune(NOW - timedelta(days=1))
        await uow.commit()
    assert pruned.count == 1
    uow = store.unit_of_work()
    assert await uow.reset_tokens.by_hash(hash_reset_secret("old")) is None
    assert await uow.reset_tokens.by_hash(hash_reset_secret("new")) is not None


async def test_only_commits_that_queue_a_row_wake_the_relay(store):
    store.outbox.written.clear()
    await committed(store, lambda uow: uow.sessions.prune(NOW))
    assert not store.outbox.written.is_set()
    await committed(store, lambda uow: issue(uow, "s", 1))
    assert store.outbox.written.is_set()
