"""OpenID Connect clients, grants, codes, refresh tokens and consents through the ports: codes
and refresh tokens spend once (of concurrent spends exactly one wins), a revoked grant takes its
codes and refresh tokens with it, removing a client removes everything of it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cardreg_registry.domain.oidc import (
    AuthorizationCode,
    Consent,
    Grant,
    OidcClient,
    OidcScope,
    RefreshToken,
    hash_secret,
)
from cardreg_registry.flows.ports import CodeSpent, Conflict, RefreshTokenSpent, UnknownReference

from .conftest import NOW, account, added, committed

OPENID = frozenset({OidcScope.OPENID, OidcScope.PROFILE})


def client(n: int = 1, *, public: bool = False) -> OidcClient:
    return OidcClient(
        client_id=f"client-{n}",
        name=f"Passbook {n}",
        redirect_uris=(f"https://rp{n}.example/cb", f"http://localhost:900{n}/cb"),
        scopes=frozenset({OidcScope.OPENID, OidcScope.PROFILE, OidcScope.NHI_ID}),
        created_at=NOW + timedelta(seconds=n),
        secret_hash=None if public else hash_secret(f"secret-{n}"),
    )


def grant(n: int = 1, client_id: str = "client-1", account_id: str = "acc-1") -> Grant:
    return Grant(
        grant_id=f"grant-{n}",
        client_id=client_id,
        account_id=account_id,
        scopes=OPENID,
        amr=("pwd", "sc"),
        auth_time=NOW,
        created_at=NOW,
    )


def code(n: int = 1, grant_id: str = "grant-1", seconds: int = 60) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=f"code-{n}",
        grant_id=grant_id,
        redirect_uri="https://rp1.example/cb",
        nonce=f"nonce-{n}",
        code_challenge="challenge",
        created_at=NOW,
        expires_at=NOW + timedelta(seconds=seconds),
    )


def refresh(n: int, grant_id: str = "grant-1", days: int = 30) -> RefreshToken:
    return RefreshToken(
        token_hash=f"rt-{n}",
        grant_id=grant_id,
        created_at=NOW,
        expires_at=NOW + timedelta(days=days),
    )


@pytest.fixture
async def store(store):
    await added(store, account(1), account(2))
    await committed(store, lambda uow: [uow.clients.add(client(1)), uow.clients.add(client(2))])
    return store


async def test_clients_round_trip_with_exact_redirect_uris(store):
    await committed(store, lambda uow: uow.clients.add(client(3, public=True)))
    uow = store.unit_of_work()
    confidential, public = await uow.clients.by_id("client-1"), await uow.clients.by_id("client-3")
    assert confidential == client(1) and public == client(3, public=True)
    assert confidential.secret_matches("secret-1") and not confidential.secret_matches("secret-2")
    assert public.public and not public.secret_matches("")
    assert confidential.allows_redirect("https://rp1.example/cb")
    assert not confidential.allows_redirect("https://rp1.example/cb/")
    assert not confidential.allows_redirect("https://rp1.example/cb?x=1")
    assert [c.client_id for c in await uow.clients.all()] == ["client-1", "client-2", "client-3"]
    assert await uow.clients.by_id("client-9") is None


async def test_a_taken_client_id_conflicts(store):
    with pytest.raises(Conflict):
        await committed(store, lambda uow: uow.clients.add(client(1)))


async def test_a_grant_needs_its_account_and_client(store):
    with pytest.raises(UnknownReference):
        await committed(store, lambda uow: uow.grants.add(grant(1, client_id="nope"), code(1)))
    with pytest.raises(UnknownReference):
        await committed(store, lambda uow: uow.grants.add(grant(1, account_id="acc-9"), code(1)))
    assert await store.unit_of_work().grants.by_id("grant-1") is None


async def test_a_code_redeems_once(store, other_store):
    await committed(store, lambda uow: uow.grants.add(grant(), code()))
    uow = store.unit_of_work()
    assert await uow.grants.by_id("grant-1") == grant()
    assert (await uow.grants.code("code-1")).usable_at(NOW)
    later = NOW + timedelta(seconds=5)

    async def redeem(s):
        await committed(s, lambda uow: uow.grants.redeem_code("code-1", later))

    results = await asyncio.gather(redeem(store), redeem(other_store), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["CodeSpent", "NoneType"]
    assert (await store.unit_of_work().grants.code("code-1")).used_at == later


async def test_an_expired_code_or_one_of_a_revoked_grant_does_not_redeem(store):
    await committed(store, lambda uow: uow.grants.add(grant(1), code(1, seconds=60)))
    with pytest.raises(CodeSpent):
        await committed(
            store, lambda uow: uow.grants.redeem_code("code-1", NOW + timedelta(seconds=60))
        )
    await committed(store, lambda uow: uow.grants.add(grant(2), code(2, "grant-2")))
    await committed(store, lambda uow: uow.grants.revoke("grant-2", NOW))
    with pytest.raises(CodeSpent):
        await committed(store, lambda uow: uow.grants.redeem_code("code-2", NOW))


async def test_a_refresh_token_rotates_once_and_a_revoked_grant_stops_the_chain(store):
    await committed(store, lambda uow: uow.grants.add(grant(), code()))
    await committed(store, lambda uow: uow.grants.add_refresh_token(refresh(1)))
    at = NOW + timedelta(minutes=1)
    await committed(store, lambda uow: uow.grants.rotate_refresh_token("rt-1", refresh(2), at))
    uow = store.unit_of_work()
    assert (await uow.grants.refresh_token("rt-1")).used_at == at
    assert (await uow.grants.refresh_token("rt-2")).usable_at(at)
    with pytest.raises(RefreshTokenSpent):
        await committed(store, lambda uow: uow.grants.rotate_refresh_token("rt-1", refresh(3), at))
    assert await store.unit_of_work().grants.refresh_token("rt-3") is None
    revoked = await _revoke(store, "grant-1")
    assert revoked == 1 and not (await store.unit_of_work().grants.by_id("grant-1")).live
    with pytest.raises(RefreshTokenSpent):
        await committed(store, lambda uow: uow.grants.rotate_refresh_token("rt-2", refresh(4), at))
    assert await _revoke(store, "grant-1") == 0  # once


async def test_concurrent_rotations_one_wins(store, other_store):
    await committed(store, lambda uow: uow.grants.add(grant(), code()))
    await committed(store, lambda uow: uow.grants.add_refresh_token(refresh(1)))

    async def rotate(s, n):
        await committed(s, lambda uow: uow.grants.rotate_refresh_token("rt-1", refresh(n), NOW))

    results = await asyncio.gather(rotate(store, 2), rotate(other_store, 3), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "RefreshTokenSpent"]


async def test_an_expired_refresh_token_does_not_rotate_and_is_pruned(store):
    await committed(store, lambda uow: uow.grants.add(grant(), code()))
    await committed(store, lambda uow: uow.grants.add_refresh_token(refresh(1, days=1)))
    later = NOW + timedelta(days=2)
    with pytest.raises(RefreshTokenSpent):
        await committed(
            store, lambda uow: uow.grants.rotate_refresh_token("rt-1", refresh(2), later)
        )
    async with store.unit_of_work() as uow:
        pruned = uow.grants.prune(later)
        await uow.commit()
    assert pruned.count == 2  # the code and the refresh token
    assert await store.unit_of_work().grants.refresh_token("rt-1") is None


async def test_revoke_all_of_an_account_at_one_client_or_all(store):
    await committed(store, lambda uow: uow.grants.add(grant(1), code(1)))
    await committed(store, lambda uow: uow.grants.add(grant(2, "client-2"), code(2, "grant-2")))
    await committed(
        store, lambda uow: uow.grants.add(grant(3, account_id="acc-2"), code(3, "grant-3"))
    )
    async with store.unit_of_work() as uow:
        one = uow.grants.revoke_all("acc-1", NOW, client_id="client-2")
        await uow.commit()
    assert one.count == 1
    async with store.unit_of_work() as uow:
        rest = uow.grants.revoke_all("acc-1", NOW)
        await uow.commit()
    assert rest.count == 1
    assert (await store.unit_of_work().grants.by_id("grant-3")).live


async def test_consents_are_per_account_and_client_replaced_and_withdrawn(store):
    first = Consent("acc-1", "client-1", OPENID, NOW)
    wider = Consent("acc-1", "client-1", OPENID | {OidcScope.NHI_ID}, NOW + timedelta(hours=1))
    other = Consent("acc-1", "client-2", OPENID, NOW)
    await committed(store, lambda uow: [uow.consents.record(first), uow.consents.record(other)])
    uow = store.unit_of_work()
    assert await uow.consents.get("acc-1", "client-1") == first
    assert await uow.consents.get("acc-2", "client-1") is None
    assert first.covers(frozenset({OidcScope.OPENID}))
    assert not first.covers(frozenset({OidcScope.OPENID, OidcScope.NHI_ID}))
    await committed(store, lambda uow: uow.consents.record(wider))
    assert await store.unit_of_work().consents.of_account("acc-1") == [other, wider]
    async with store.unit_of_work() as uow:
        gone = uow.consents.withdraw("acc-1", "client-1")
        await uow.commit()
    assert gone.count == 1
    assert await store.unit_of_work().consents.of_account("acc-1") == [other]
    with pytest.raises(UnknownReference):
        await committed(
            store, lambda uow: uow.consents.record(Consent("acc-9", "client-1", OPENID, NOW))
        )


async def test_removing_a_client_removes_its_grants_tokens_and_consents(store):
    await committed(store, lambda uow: uow.grants.add(grant(1), code(1)))
    await committed(store, lambda uow: uow.grants.add_refresh_token(refresh(1)))
    await committed(
        store, lambda uow: uow.consents.record(Consent("acc-1", "client-1", OPENID, NOW))
    )
    async with store.unit_of_work() as uow:
        removed = uow.clients.remove("client-1")
        await uow.commit()
    assert removed.count == 1
    uow = store.unit_of_work()
    assert await uow.clients.by_id("client-1") is None
    assert await uow.grants.by_id("grant-1") is None
    assert await uow.grants.code("code-1") is None
    assert await uow.grants.refresh_token("rt-1") is None
    assert await uow.consents.get("acc-1", "client-1") is None
    assert await uow.clients.by_id("client-2") is not None


async def _revoke(store, grant_id: str) -> int:
    async with store.unit_of_work() as uow:
        tally = uow.grants.revoke(grant_id, NOW)
        await uow.commit()
    return tally.count
