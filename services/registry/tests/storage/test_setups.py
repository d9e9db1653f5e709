"""Setup codes through the ports: issued (voiding the account's older ones), found by hash,
consumed once, voided all at once (a deactivation), gone with the account they belong to."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cardreg_registry.domain.setups import Setup, canonical_code, hash_setup_code
from cardreg_registry.flows.ports import SetupSpent

from .conftest import NOW, account, added, committed, reset_token


def pending(n: int = 1):
    return account(n, status="pending", bound_card_no=None, password_hash=None)


async def test_a_setup_is_found_by_its_hash_and_consumed_once(store):
    await added(store, pending())
    setup, code = Setup.issue("acc-1", NOW)
    await committed(store, lambda uow: uow.setups.issue(setup))
    found = await store.unit_of_work().setups.by_hash(hash_setup_code(code.lower()))
    assert found == setup and found.usable_at(NOW)
    assert await store.unit_of_work().setups.by_hash(hash_setup_code("nope")) is None

    later = NOW + timedelta(minutes=5)
    await committed(store, lambda uow: uow.setups.consume(setup.code_hash, later))
    with pytest.raises(SetupSpent):
        await committed(store, lambda uow: uow.setups.consume(setup.code_hash, later))
    used = await store.unit_of_work().setups.by_hash(setup.code_hash)
    assert used.used_at == later and not used.usable_at(later)


async def test_concurrent_completions_consume_once(store, other_store):
    await added(store, pending())
    setup, _ = Setup.issue("acc-1", NOW)
    await committed(store, lambda uow: uow.setups.issue(setup))

    async def consume(storage) -> bool:
        try:
            await committed(storage, lambda uow: uow.setups.consume(setup.code_hash, NOW))
        except SetupSpent:
            return False
        return True

    assert sorted(await asyncio.gather(consume(store), consume(other_store))) == [False, True]


async def test_setups_issued_at_once_on_two_replicas_leave_one_live(store, other_store):
    await added(store, pending())
    setups = [Setup.issue("acc-1", NOW + timedelta(seconds=n))[0] for n in range(12)]
    storages = (store, other_store)
    await asyncio.gather(
        *(
            committed(storages[n % 2], lambda uow, setup=setup: uow.setups.issue(setup))
            for n, setup in enumerate(setups)
        )
    )
    uow = store.unit_of_work()
    stored = [await uow.setups.by_hash(setup.code_hash) for setup in setups]
    assert [s.voided_at is None for s in stored].count(True) == 1


async def test_a_new_setup_voids_the_older_ones_and_expiry_counts(store):
    await added(store, pending(), pending(2))
    first, _ = Setup.issue("acc-1", NOW)
    theirs, _ = Setup.issue("acc-2", NOW)
    await committed(store, lambda uow: [uow.setups.issue(first), uow.setups.issue(theirs)])
    second, _ = Setup.issue("acc-1", NOW + timedelta(minutes=1))
    await committed(store, lambda uow: uow.setups.issue(second))
    uow = store.unit_of_work()
    assert (await uow.setups.by_hash(first.code_hash)).voided_at == second.created_at
    assert (await uow.setups.by_hash(theirs.code_hash)).usable_at(NOW)
    with pytest.raises(SetupSpent):
        await committed(store, lambda uow: uow.setups.consume(first.code_hash, NOW))
    expired = second.expires_at + timedelta(seconds=1)
    with pytest.raises(SetupSpent):
        await committed(store, lambda uow: uow.setups.consume(second.code_hash, expired))
    assert second.expires_at - second.created_at == timedelta(days=7)


async def test_void_all_voids_setups_and_reset_tokens_of_one_account(store):
    await added(store, account(), pending(2))
    setup, _ = Setup.issue("acc-2", NOW)
    other, _ = Setup.issue("acc-2", NOW)
    token = reset_token("secret-1")
    await committed(store, lambda uow: uow.setups.issue(setup))
    await committed(store, lambda uow: uow.reset_tokens.issue(token, limit=3, since=NOW))
    async with store.unit_of_work() as uow:
        tally = uow.setups.void_all("acc-2", NOW)
        tokens = uow.reset_tokens.void_all("acc-1", NOW)
        await uow.commit()
    assert (tally.count, tokens.count) == (1, 1)
    uow = store.unit_of_work()
    assert (await uow.setups.by_hash(setup.code_hash)).voided_at == NOW
    assert (await uow.reset_tokens.by_hash(token.token_hash)).voided_at == NOW
    assert other.code_hash != setup.code_hash


async def test_a_removed_account_takes_its_setups_along(store):
    await added(store, pending())
    setup, _ = Setup.issue("acc-1", NOW)
    await committed(store, lambda uow: uow.setups.issue(setup))
    stored = await store.unit_of_work().accounts.by_id("acc-1")
    async with store.unit_of_work() as uow:
        again = await uow.accounts.by_id("acc-1")
        uow.accounts.remove(again)
        await uow.commit()
    assert stored is not None
    assert await store.unit_of_work().setups.by_hash(setup.code_hash) is None


def test_codes_have_100_bits_and_read_as_typed():
    codes = {Setup.issue("acc-1", NOW)[1] for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(canonical_code(code)) == 20 and code.count("-") == 4
        assert hash_setup_code(code) == hash_setup_code(f" {code.lower().replace('-', ' ')} ")
