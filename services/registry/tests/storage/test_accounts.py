"""Accounts and their credentials through the ports: round trips, one account per person,
version-guarded changes, lockout counters, and the events a commit writes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import get_args

import pytest
from cardreg_registry.domain.accounts import Account, DuplicateAccount, Origin
from cardreg_registry.domain.lockout import UNTIL_RESET, LockoutPolicy
from cardreg_registry.flows.ports import Conflict
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import Language

from .conftest import NOW, account, added, committed, read, session

ONLINE = Origin(channel="online", method="card+password")
POLICY = LockoutPolicy()


async def fail_once(store, account_id: str = "acc-1", *, policy: LockoutPolicy = POLICY) -> int:
    """One wrong password, as the login flow records it: read, count, commit; again on a
    conflict. Returns the count this failure saw."""
    while True:
        async with store.unit_of_work() as uow:
            current = await uow.accounts.by_id(account_id)
            current.fail_password(NOW, ONLINE, policy)
            uow.accounts.save(current)
            try:
                await uow.commit()
            except Conflict:
                continue
            return current.failed_logins


async def test_account_round_trips_by_person_and_by_id(store):
    stored = account(locked_until=NOW + timedelta(minutes=15), failed_logins=5, email=None)
    await added(store, stored)
    uow = store.unit_of_work()
    assert await uow.accounts.by_person("person-1") == stored
    assert await uow.accounts.by_id("acc-1") == stored
    assert await uow.accounts.by_person("person-2") is None


async def test_accounts_without_card_or_password_round_trip(store):
    """A pending account and a person deactivated without an account have neither."""
    pending = account(1, status="pending", bound_card_no=None, password_hash=None)
    record = account(2, status="deactivated", bound_card_no=None, password_hash=None)
    await added(store, pending, record)
    assert await read(store, "acc-1") == pending
    assert await read(store, "acc-2") == record
    assert not (await read(store, "acc-2")).is_registered


@pytest.mark.parametrize("language", get_args(Language))
async def test_every_mail_language_round_trips(store, language):
    await added(store, account(language=language))
    assert (await read(store)).language == language


async def test_another_storage_on_the_same_database_sees_the_account(store, other_store):
    await added(store, account(id_no_hash="f" * 64, language="en"))
    assert await read(other_store) == account(id_no_hash="f" * 64, language="en")


async def test_second_account_for_a_person_is_a_duplicate(store):
    await added(store, account(1))
    with pytest.raises(DuplicateAccount):
        await added(store, account(2, person_id="person-1"))
    assert (await store.unit_of_work().accounts.by_person("person-1")).account_id == "acc-1"


async def test_concurrent_registrations_of_one_person_leave_one_account(store, other_store):
    outcomes = await asyncio.gather(
        *(added(store if n % 2 else other_store, account(n, person_id="same")) for n in range(10)),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, DuplicateAccount) for o in outcomes if o is not None)


async def test_an_uncommitted_unit_of_work_writes_nothing(store):
    async with store.unit_of_work() as uow:
        uow.accounts.add(account())
    assert await read(store) is None


async def test_a_change_is_written_and_moves_the_version(store):
    await added(store, account())
    uow = store.unit_of_work()
    current = await uow.accounts.by_id("acc-1")
    later = NOW + timedelta(days=1)
    current.change_settings(later, ONLINE, email=None, phone="0223456789", language="en")
    uow.accounts.save(current)
    await uow.commit()
    after = await read(store)
    assert (after.email, after.phone, after.language, after.updated_at) == (
        None,
        "0223456789",
        "en",
        later,
    )
    assert after.version == current.version == 1


async def test_a_change_decided_on_a_stale_read_is_refused(store, other_store):
    await added(store, account())
    first, second = store.unit_of_work(), other_store.unit_of_work()
    mine, theirs = await first.accounts.by_id("acc-1"), await second.accounts.by_id("acc-1")
    mine.change_password("$argon2id$mine", NOW, ONLINE)
    first.accounts.save(mine)
    await first.commit()

    theirs.change_password("$argon2id$theirs", NOW, ONLINE)
    second.accounts.save(theirs)
    with pytest.raises(Conflict):
        await second.commit()
    assert (await read(store)).password_hash == "$argon2id$mine"


async def test_an_unchanged_account_still_guards_the_commit(store, other_store):
    """A login that changes nothing on the account still rests on what it read."""
    await added(store, account())
    uow = store.unit_of_work()
    seen = await uow.accounts.by_id("acc-1")
    await fail_once(other_store)  # someone else changed it meanwhile
    uow.accounts.save(seen)
    uow.sessions.add(session("s-1"))
    with pytest.raises(Conflict):
        await uow.commit()
    assert await store.unit_of_work().sessions.with_account("s-1") is None


async def test_saving_an_account_that_is_not_stored_conflicts(store):
    uow = store.unit_of_work()
    uow.accounts.save(account())
    with pytest.raises(Conflict):
        await uow.commit()


async def test_removal_is_guarded_like_a_save(store):
    await added(store, account(status="deactivated", password_hash=None, bound_card_no=None))
    uow = store.unit_of_work()
    record = await uow.accounts.by_id("acc-1")
    uow.accounts.remove(record)
    await uow.commit()
    assert await read(store) is None


async def test_failures_count_atomically_and_stop_at_the_limit(store, other_store):
    await added(store, account())
    counts = await asyncio.gather(*(fail_once(store if n % 2 else other_store) for n in range(20)))
    assert sorted(counts) == list(range(1, 21))
    for _ in range(100):
        last = await fail_once(store)
    assert last == 100
    assert (await read(store)).failed_logins == 100
    assert (await read(store)).locked_until == UNTIL_RESET


async def test_lock_applies_only_to_the_failure_count_it_was_computed_for(store, other_store):
    await added(store, account(failed_logins=4))
    uow = store.unit_of_work()
    stale = await uow.accounts.by_id("acc-1")
    assert stale.fail_password(NOW, ONLINE, POLICY) == NOW + timedelta(minutes=15)

    # A success in between resets the count: the lock for the old count is refused.
    async with other_store.unit_of_work() as other:
        fresh = await other.accounts.by_id("acc-1")
        fresh.log_in(NOW, ONLINE, card_no=fresh.bound_card_no)
        other.accounts.save(fresh)
        await other.commit()
    uow.accounts.save(stale)
    with pytest.raises(Conflict):
        await uow.commit()
    after = await read(store)
    assert after.locked_until is None and after.failed_logins == 0


async def test_login_clears_failures_and_binds_a_newer_card_and_rehash(store):
    await added(store, account(failed_logins=3, locked_until=NOW))
    later = NOW + timedelta(days=2)
    async with store.unit_of_work() as uow:
        current = await uow.accounts.by_id("acc-1")
        current.log_in(later, ONLINE, card_no="000099998888", password_hash="$argon2id$new")
        uow.accounts.save(current)
        await uow.commit()
    after = await read(store)
    assert (after.failed_logins, after.locked_until) == (0, None)
    assert after.bound_card_no == "000099998888"
    assert after.password_hash == "$argon2id$new"
    assert after.updated_at == later


async def test_plain_login_changes_neither_card_hash_nor_updated_at(store):
    await added(store, account(failed_logins=2))
    async with store.unit_of_work() as uow:
        current = await uow.accounts.by_id("acc-1")
        current.log_in(NOW + timedelta(days=1), ONLINE, card_no="000011112222")
        uow.accounts.save(current)
        await uow.commit()
    assert await read(store) == account()


async def test_events_of_accounts_read_or_added_go_out_with_the_commit(store):
    opened = Account.register_online(
        None,
        person_id="person-9",
        kind="foreigner",
        id_no_masked="A81*****89",
        id_no_hash="f" * 64,
        card_no="000011112222",
        password_hash="$argon2id$stub",
        email=None,
        phone=None,
        channel="online",
        language="zh-TW",
        now=NOW,
        origin=Origin(channel="online", method="card+residence"),
    )
    await added(store, opened)
    async with store.unit_of_work() as uow:
        current = await uow.accounts.by_id(opened.account_id)
        current.login_refused(NOW, ONLINE, ErrorCode.ACCOUNT_LOCKED)
        await uow.commit()  # an event alone: no change to the account, no guard needed
    claimed = await store.outbox.claim("relay-1", 10, NOW, timedelta(seconds=30))
    events = [json.loads(m.payload) for m in claimed]
    assert [(m.subject, e["type"]) for m, e in zip(claimed, events, strict=True)] == [
        ("evt.registry.account.registered", "registered"),
        ("evt.registry.account.login_failed", "login_failed"),
    ]
    assert [m.msg_id for m in claimed] == [e["event_id"] for e in events]
    assert events[0]["method"] == "card+residence" and events[1]["outcome"] == "account_locked"


async def test_a_failed_commit_writes_no_event(store):
    await added(store, account())
    await store.outbox.claim("relay-1", 10, NOW, timedelta(seconds=30))  # nothing there
    uow = store.unit_of_work()
    current = await uow.accounts.by_id("acc-1")
    current.change_password("$argon2id$new", NOW, ONLINE)
    uow.accounts.save(current)
    await fail_once(store)  # the account moved on
    with pytest.raises(Conflict):
        await uow.commit()
    claimed = await store.outbox.claim("relay-1", 10, NOW, timedelta(seconds=30))
    assert [json.loads(m.payload)["type"] for m in claimed] == ["login_failed"]


async def test_consent_and_deactivation_reason_round_trip(store):
    employed = account(
        status="pending",
        channel="employer",
        bound_card_no=None,
        password_hash=None,
        consent_reference="HR-2025-0042",
        consent_given_on="2025-02-27",
    )
    await added(store, employed)
    stored = await read(store)
    assert (stored.consent_reference, stored.consent_given_on) == ("HR-2025-0042", "2025-02-27")
    stored.deactivation_reason, stored.deactivation_note = "card_misuse", "reported lost"
    stored.status = "deactivated"
    await committed(store, lambda uow: uow.accounts.save(stored))
    again = await read(store)
    assert (again.deactivation_reason, again.deactivation_note) == ("card_misuse", "reported lost")
