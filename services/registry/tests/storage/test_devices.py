"""Devices, binding links and spent challenges through the ports: every field round trips,
the device limit holds against racing binds, a link binds once, a counter moves only from the
value read, a challenge is spent once, and removing a device ends its sessions only."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from cardreg_registry.domain.devices import Device, DeviceBinding, hash_binding_secret
from cardreg_registry.domain.sessions import Session
from cardreg_registry.flows.ports import (
    BindingSpent,
    ChallengeSpent,
    Conflict,
    DeviceGone,
    DeviceLimitReached,
    DuplicateCredential,
    UnknownReference,
)

from .conftest import NOW, account, added, committed


@pytest.fixture
async def store(store):
    await added(store, account(1), account(2))
    return store


def device(n: int, account_id: str = "acc-1", **changes) -> Device:
    base = Device(
        device_id=f"dev-{n}",
        account_id=account_id,
        credential_id=f"cred-{n}",
        public_key=f"pQECAyYgASFYIA-{n}",
        sign_count=0,
        transports=("hybrid", "internal"),
        aaguid="ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        name=f"手機 {n}",
        created_at=NOW + timedelta(seconds=n),
    )
    return replace(base, **changes)


async def test_a_device_round_trips_every_field(store):
    await committed(store, lambda uow: uow.devices.add(device(1), limit=5))
    uow = store.unit_of_work()
    assert await uow.devices.by_credential("cred-1") == device(1)
    assert await uow.devices.of_account("acc-1") == [device(1)]
    assert await uow.devices.of_account("acc-2") == []
    assert await uow.devices.by_credential("cred-x") is None


async def test_the_limit_is_counted_inside_the_commit(store, other_store):
    for n in range(3):
        await committed(store, lambda uow, n=n: uow.devices.add(device(n), limit=5))
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow, n=n: uow.devices.add(device(n), limit=5))
            for n, s in zip(range(10, 16), [store, other_store] * 3, strict=True)
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 2
    assert all(isinstance(o, DeviceLimitReached) for o in outcomes if o is not None)
    assert len(await store.unit_of_work().devices.of_account("acc-1")) == 5
    # Another account's devices do not count.
    await committed(store, lambda uow: uow.devices.add(device(20, "acc-2"), limit=5))


async def test_a_credential_is_bound_once_and_only_to_an_account(store):
    await committed(store, lambda uow: uow.devices.add(device(1), limit=5))
    with pytest.raises(DuplicateCredential):
        await committed(
            store, lambda uow: uow.devices.add(device(2, "acc-2", credential_id="cred-1"), limit=5)
        )
    with pytest.raises(UnknownReference):
        await committed(store, lambda uow: uow.devices.add(device(3, "acc-404"), limit=5))


async def test_a_counter_moves_only_from_the_value_read(store, other_store):
    await committed(store, lambda uow: uow.devices.add(device(1), limit=5))
    read = await store.unit_of_work().devices.by_credential("cred-1")
    later = NOW + timedelta(minutes=1)
    await committed(store, lambda uow: uow.devices.used(read, 7, later))
    with pytest.raises(Conflict):
        await committed(other_store, lambda uow: uow.devices.used(read, 8, later))
    after = await store.unit_of_work().devices.by_credential("cred-1")
    assert (after.sign_count, after.last_used_at) == (7, later)


async def test_removing_a_device_ends_its_sessions_only(store):
    await committed(store, lambda uow: uow.devices.add(device(1), limit=5))
    phone = Session("s-phone", "acc-1", NOW, NOW + timedelta(hours=1), device_id="dev-1")
    portal = Session("s-portal", "acc-1", NOW, NOW + timedelta(hours=1))

    def add_sessions(uow):
        uow.sessions.add(phone)
        uow.sessions.add(portal)

    await committed(store, add_sessions)

    def remove(uow):
        uow.devices.remove("acc-1", "dev-1")
        return uow.sessions.revoke_device("dev-1", NOW)

    async with store.unit_of_work() as uow:
        tally = remove(uow)
        await uow.commit()
    assert tally.count == 1
    uow = store.unit_of_work()
    assert await uow.devices.of_account("acc-1") == []
    ended, _ = await uow.sessions.with_account("s-phone")
    kept, _ = await uow.sessions.with_account("s-portal")
    assert ended.revoked_at == NOW and kept.revoked_at is None
    with pytest.raises(DeviceGone):
        await committed(store, lambda uow: uow.devices.remove("acc-1", "dev-1"))


async def test_another_accounts_device_cannot_be_removed(store):
    await committed(store, lambda uow: uow.devices.add(device(1), limit=5))
    with pytest.raises(DeviceGone):
        await committed(store, lambda uow: uow.devices.remove("acc-2", "dev-1"))
    assert len(await store.unit_of_work().devices.of_account("acc-1")) == 1


def binding(secret: str, at=NOW) -> DeviceBinding:
    return DeviceBinding.issue(secret, "acc-1", at)


async def test_a_binding_link_binds_once_and_not_after_it_expired(store, other_store):
    await committed(store, lambda uow: uow.device_bindings.issue(binding("one")))
    await committed(store, lambda uow: uow.device_bindings.issue(binding("two")))
    stored = await store.unit_of_work().device_bindings.by_hash(hash_binding_secret("one"))
    assert stored == binding("one") and stored.usable_at(NOW)
    at = NOW + timedelta(minutes=1)
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow: uow.device_bindings.consume(hash_binding_secret("one"), at))
            for s in [store, other_store] * 2
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, BindingSpent) for o in outcomes if o is not None)
    used = await store.unit_of_work().device_bindings.by_hash(hash_binding_secret("one"))
    assert used.used_at == at and not used.usable_at(at)
    late = NOW + timedelta(minutes=5)
    with pytest.raises(BindingSpent):
        await committed(
            store, lambda uow: uow.device_bindings.consume(hash_binding_secret("two"), late)
        )


async def test_a_failed_bind_leaves_the_link_and_the_limit_as_they_were(store):
    """All in one commit, as the flow does: consume the link, add the device; over the
    limit nothing is written, and the link can still be used."""
    for n in range(5):
        await committed(store, lambda uow, n=n: uow.devices.add(device(n), limit=5))
    await committed(store, lambda uow: uow.device_bindings.issue(binding("s")))

    def bind(uow):
        uow.device_bindings.consume(hash_binding_secret("s"), NOW)
        uow.devices.add(device(9), limit=5)

    with pytest.raises(DeviceLimitReached):
        await committed(store, bind)
    stored = await store.unit_of_work().device_bindings.by_hash(hash_binding_secret("s"))
    assert stored.used_at is None


async def test_bindings_and_challenges_are_pruned_after_expiry(store):
    await committed(store, lambda uow: uow.device_bindings.issue(binding("old", NOW)))
    later = NOW + timedelta(hours=1)
    await committed(store, lambda uow: uow.device_bindings.issue(binding("new", later)))
    await committed(store, lambda uow: uow.spent_challenges.spend("c-old", NOW))
    await committed(store, lambda uow: uow.spent_challenges.spend("c-new", later))
    async with store.unit_of_work() as uow:
        bindings = uow.device_bindings.prune(NOW + timedelta(minutes=10))
        challenges = uow.spent_challenges.prune(NOW + timedelta(minutes=10))
        await uow.commit()
    assert (bindings.count, challenges.count) == (1, 1)
    uow = store.unit_of_work()
    assert await uow.device_bindings.by_hash(hash_binding_secret("old")) is None
    assert await uow.device_bindings.by_hash(hash_binding_secret("new")) is not None
    # A pruned challenge has expired, so it could not be answered anyway; a live one stays spent.
    with pytest.raises(ChallengeSpent):
        await committed(store, lambda uow: uow.spent_challenges.spend("c-new", later))


async def test_a_challenge_is_spent_once_across_replicas(store, other_store):
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow: uow.spent_challenges.spend("c-1", NOW))
            for s in [store, other_store] * 2
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, ChallengeSpent) for o in outcomes if o is not None)


async def test_an_account_is_found_by_the_keyed_hash_of_its_id_number(store):
    await added(store, account(3, id_no_hash="f" * 64))
    uow = store.unit_of_work()
    found = await uow.accounts.by_id_number("f" * 64)
    assert found is not None and found.account_id == "acc-3"
    assert await uow.accounts.by_id_number("0" * 64) is None
