"""The signing key set through the ports: one active key, rotation retires it and drops its
private half, racing creators and rotators settle on one key, private halves stored sealed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cardreg_registry.adapters.key_ring import new_signing_key, rotate, rotate_set
from cardreg_registry.domain.keys import ALGORITHMS
from cardreg_registry.flows.ports import Conflict

from .conftest import NOW, committed


async def keys(store):
    return await store.unit_of_work().keys.load()


async def test_an_empty_set_takes_a_first_key_and_keeps_it_whole(store, other_store):
    assert (await keys(store)).keys == ()
    first = new_signing_key(NOW)
    await committed(store, lambda uow: uow.keys.add(first))
    loaded = await keys(other_store)
    assert loaded.active == first  # private half included, as it was sealed
    assert loaded.keys == (first,)


async def test_a_second_active_key_is_refused(store):
    await committed(store, lambda uow: uow.keys.add(new_signing_key(NOW)))
    with pytest.raises(Conflict):
        await committed(store, lambda uow: uow.keys.add(new_signing_key(NOW)))
    assert len((await keys(store)).keys) == 1


async def test_racing_first_keys_settle_on_one(store, other_store):
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow: uow.keys.add(new_signing_key(NOW)))
            for s in (store, other_store, store, other_store)
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if o is not None)


async def test_rotation_retires_the_active_key_and_drops_its_private_half(store):
    first = new_signing_key(NOW)
    await committed(store, lambda uow: uow.keys.add(first))
    later = NOW + timedelta(hours=1)
    retired, new = await rotate(store, later)
    assert retired == first
    loaded = await keys(store)
    assert loaded.active == new
    old = loaded.find(first.kid)
    assert old.retired_at == later and old.private_key is None
    assert old.public_key == first.public_key
    grace = timedelta(minutes=16)
    assert [k.kid for k in loaded.published(later, grace)] == [new.kid, first.kid]
    assert [k.kid for k in loaded.published(later + grace, grace)] == [new.kid]


async def test_a_rotation_from_a_stale_set_is_refused(store, other_store):
    first = new_signing_key(NOW)
    await committed(store, lambda uow: uow.keys.add(first))
    await rotate(other_store, NOW)
    with pytest.raises(Conflict):
        await committed(store, lambda uow: uow.keys.rotate(first, new_signing_key(NOW), NOW))
    assert len([k for k in (await keys(store)).keys if k.active]) == 1


async def test_racing_rotations_each_rotate_once(store, other_store):
    await committed(store, lambda uow: uow.keys.add(new_signing_key(NOW)))
    await asyncio.gather(*(rotate(s, NOW) for s in (store, other_store, store)))
    loaded = await keys(store)
    assert len(loaded.keys) == 4 and len([k for k in loaded.keys if k.active]) == 1
    assert all(k.private_key is None for k in loaded.keys if not k.active)


async def test_the_whole_set_rotates_in_one_transaction(store, other_store):
    for alg in ALGORITHMS:
        await committed(store, lambda uow, alg=alg: uow.keys.add(new_signing_key(NOW, alg)))
    before = await keys(store)
    seen = []

    class Watched:
        """The store, with what another process would load after each commit."""

        def unit_of_work(self):
            uow = store.unit_of_work()
            commit = uow.commit

            async def watched_commit():
                await commit()
                seen.append(await keys(other_store))

            uow.commit = watched_commit
            return uow

    pairs = await rotate_set(Watched(), NOW, ALGORITHMS)
    assert [retired for retired, _ in pairs] == [before.active_for(a) for a in ALGORITHMS]
    assert len(seen) == 1  # no load in between sees EdDSA rotated and RS256 not
    assert [seen[0].active_for(a) for a in ALGORITHMS] == [new for _, new in pairs]


async def test_racing_set_rotations_rotate_every_algorithm_alike(store, other_store):
    for alg in ALGORITHMS:
        await committed(store, lambda uow, alg=alg: uow.keys.add(new_signing_key(NOW, alg)))
    await asyncio.gather(*(rotate_set(s, NOW, ALGORITHMS) for s in (store, other_store, store)))
    loaded = await keys(store)
    for alg in ALGORITHMS:
        of_alg = [k for k in loaded.keys if k.alg == alg]
        assert len(of_alg) == 4 and len([k for k in of_alg if k.active]) == 1


async def test_prune_drops_keys_retired_before_the_cut(store):
    await committed(store, lambda uow: uow.keys.add(new_signing_key(NOW - timedelta(days=3))))
    await rotate(store, NOW - timedelta(days=2))
    await rotate(store, NOW)
    async with store.unit_of_work() as uow:
        pruned = uow.keys.prune(NOW - timedelta(days=1))
        await uow.commit()
    assert pruned.count == 1
    assert len((await keys(store)).keys) == 2
