"""Sessions through the ports: principal, method, amr, scopes and device kept; joined to their
account; revoked once; all but one revoked; pruned."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cardreg_registry.domain.scopes import DEVICE, PORTAL
from cardreg_registry.domain.sessions import Session
from cardreg_registry.flows.ports import SessionNotLive, UnknownReference

from .conftest import NOW, account, added, committed, session


async def test_sessions_are_stored_revoked_once_and_joined_to_their_account(store):
    await added(store, account())
    opened = session("j1", minutes=15)
    await committed(store, lambda uow: uow.sessions.add(opened))
    uow = store.unit_of_work()
    assert await uow.sessions.with_account("j1") == (opened, account())
    assert await uow.sessions.with_account("j2") is None

    await committed(store, lambda uow: uow.sessions.revoke("j1", NOW))
    for again in ("j1", "unknown"):
        with pytest.raises(SessionNotLive):
            await committed(store, lambda uow, sid=again: uow.sessions.revoke(sid, NOW))
    revoked, _ = await store.unit_of_work().sessions.with_account("j1")
    assert revoked.revoked_at == NOW and not revoked.live_at(NOW)


async def test_method_amr_scopes_and_device_round_trip(store):
    await added(store, account())
    phone = Session.open(
        "acc-1",
        NOW,
        timedelta(minutes=15),
        method="device+password",
        amr=("pwd", "hwk"),
        scopes=DEVICE,
        device_id="dev-1",
    )
    portal = Session.open(
        "acc-1",
        NOW,
        timedelta(minutes=15),
        method="card+password",
        amr=("pwd", "sc"),
        scopes=PORTAL,
    )
    await committed(store, lambda uow: (uow.sessions.add(phone), uow.sessions.add(portal)))
    uow = store.unit_of_work()
    assert (await uow.sessions.with_account(phone.session_id))[0] == phone
    assert (await uow.sessions.with_account(portal.session_id))[0] == portal
    assert phone.session_id != portal.session_id and phone.principal == "acc-1"


async def test_session_for_an_unknown_account_is_refused(store):
    with pytest.raises(UnknownReference):
        await committed(store, lambda uow: uow.sessions.add(session("j1", "ghost")))


async def test_revoking_all_keeps_the_one_named(store):
    await added(store, account(), account(2))
    ids = ("here", "there", "elsewhere")
    await committed(
        store,
        lambda uow: (
            [uow.sessions.add(session(s)) for s in ids] + [uow.sessions.add(session("x", "acc-2"))]
        ),
    )
    async with store.unit_of_work() as uow:
        revoked = uow.sessions.revoke_all("acc-1", NOW, keep="here")
        await uow.commit()
    assert revoked.count == 2
    uow = store.unit_of_work()
    live = {s: (await uow.sessions.with_account(s))[0].revoked_at is None for s in (*ids, "x")}
    assert live == {"here": True, "there": False, "elsewhere": False, "x": True}
    async with store.unit_of_work() as uow:
        again = uow.sessions.revoke_all("acc-1", NOW)
        await uow.commit()
    assert again.count == 1  # only the live one left


async def test_of_two_racing_logouts_one_revokes(store, other_store):
    await added(store, account())
    await committed(store, lambda uow: uow.sessions.add(session("j1")))
    outcomes = await asyncio.gather(
        *(
            committed(s, lambda uow: uow.sessions.revoke("j1", NOW))
            for s in (store, other_store, store, other_store)
        ),
        return_exceptions=True,
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, SessionNotLive) for o in outcomes if o is not None)


async def test_prune_drops_only_expired_sessions(store):
    await added(store, account())
    await committed(
        store,
        lambda uow: (
            uow.sessions.add(session("old", minutes=-30)),
            uow.sessions.add(session("live")),
        ),
    )
    async with store.unit_of_work() as uow:
        pruned = uow.sessions.prune(NOW)
        await uow.commit()
    assert pruned.count == 1
    uow = store.unit_of_work()
    assert await uow.sessions.with_account("old") is None
    assert await uow.sessions.with_account("live") is not None
