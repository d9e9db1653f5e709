"""argon2id hashing with explicit parameters, off the event loop."""

from __future__ import annotations

import asyncio

from cardreg_registry.adapters.hashing import Argon2Hasher, Argon2Params

FAST = Argon2Params(memory_kib=64, time_cost=1, parallelism=1)


async def test_defaults_are_the_designed_parameters_not_the_librarys():
    hasher = Argon2Hasher(Argon2Params())
    stored = await hasher.hash("tea-mountain-harbour")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify(stored, "tea-mountain-harbour") is True
    assert await hasher.verify(stored, "tea-mountain-harbouR") is False
    assert hasher.needs_rehash(stored) is False


async def test_other_parameters_need_a_rehash():
    old = await Argon2Hasher(FAST).hash("tea-mountain-harbour")
    assert Argon2Hasher(Argon2Params()).needs_rehash(old) is True
    assert Argon2Hasher(FAST).needs_rehash(old) is False


async def test_a_corrupt_stored_hash_verifies_as_wrong_not_as_a_crash():
    hasher = Argon2Hasher(FAST)
    assert await hasher.verify("not-a-hash", "tea-mountain-harbour") is False
    assert await hasher.verify("$argon2id$v=19$m=64,t=1,p=1$AAAA$BBBB", "x") is False


async def test_dummy_verify_runs_a_real_verify_with_the_same_parameters(monkeypatch):
    hasher = Argon2Hasher(FAST)
    checked: list[str] = []
    real_verify = hasher.verify

    async def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return await real_verify(password_hash, password)

    monkeypatch.setattr(hasher, "verify", spy)
    await hasher.verify_dummy("anything")
    await hasher.verify_dummy("anything")
    # One dummy hash, made once, verified each time: the work of checking a real account.
    assert len(checked) == 2 and checked[0] == checked[1]
    assert checked[0].startswith("$argon2id$v=19$m=64,t=1,p=1$")


async def test_many_hashes_at_once_all_complete_behind_the_bound():
    hasher = Argon2Hasher(FAST, concurrency=2)
    hashes = await asyncio.gather(*(hasher.hash(f"password-{n}") for n in range(16)))
    assert len(set(hashes)) == 16
    checks = await asyncio.gather(
        *(hasher.verify(h, f"password-{n}") for n, h in enumerate(hashes))
    )
    assert all(checks)
