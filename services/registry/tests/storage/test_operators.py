"""Operators through the ports: enrolled once per username, read back whole (the TOTP secret
unsealed), saved under a version guard (so a code's step is used once however requests race),
their events written with the change, their sessions joined and revoked together."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cardreg_registry.domain import totp
from cardreg_registry.domain.lockout import LockoutPolicy
from cardreg_registry.domain.operators import DuplicateOperator, Operator, OperatorInputError
from cardreg_registry.domain.scopes import Scope
from cardreg_registry.domain.sessions import Session
from cardreg_registry.flows.ports import Conflict, Storage

from .conftest import NOW, account, added, committed, session


def operator(username: str = "clerk.one", role="counter", unit_id=None) -> Operator:
    return Operator.enrol(
        username=username,
        role=role,
        unit_id=unit_id,
        password_hash="$argon2id$stub",
        totp_secret=totp.new_secret(),
        now=NOW,
        actor=None,
    )


def operator_session(session_id: str, operator_id: str, minutes: int = 15) -> Session:
    return Session(
        session_id,
        None,
        NOW,
        NOW + timedelta(minutes=minutes),
        method="password+totp",
        amr=("pwd", "otp"),
        scopes=frozenset({Scope.OPERATOR_COUNTER}),
        operator_id=operator_id,
    )


async def enrolled(store: Storage, *operators: Operator) -> None:
    await committed(store, lambda uow: [uow.operators.add(o) for o in operators])


async def test_an_operator_round_trips_with_its_secret(store):
    clerk, agent = operator(), operator("hr.agent", "employer", "123456789")
    await enrolled(store, clerk, agent)
    uow = store.unit_of_work()
    read = await uow.operators.by_username("clerk.one")
    assert read == clerk and read is not clerk
    assert read.totp_secret == clerk.totp_secret and read.password_change_required
    assert await uow.operators.by_id(agent.operator_id) == agent
    assert (await uow.operators.by_id(agent.operator_id)).unit_id == "123456789"
    assert await uow.operators.by_username("nobody") is None
    assert [o.username for o in await uow.operators.all()] == ["clerk.one", "hr.agent"]


async def test_a_username_is_enrolled_once(store):
    await enrolled(store, operator())
    with pytest.raises(DuplicateOperator):
        await enrolled(store, operator())
    assert len(await store.unit_of_work().operators.all()) == 1


async def test_saves_are_guarded_by_version(store, other_store):
    clerk = operator()
    await enrolled(store, clerk)
    first = await store.unit_of_work().operators.by_username("clerk.one")
    second = await other_store.unit_of_work().operators.by_username("clerk.one")
    for reader, step in ((first, 100), (second, 100)):
        reader.log_in(NOW, step)
    uow = store.unit_of_work()
    uow.operators.save(first)
    await uow.commit()
    uow = other_store.unit_of_work()
    uow.operators.save(second)
    with pytest.raises(Conflict):
        await uow.commit()
    stored = await store.unit_of_work().operators.by_id(clerk.operator_id)
    assert stored.totp_last_step == 100 and stored.version == first.version == 1

    # A saved operator can be saved again through the same unit of work's result.
    first.disable(NOW, actor=None)
    await committed(store, lambda uow: uow.operators.save(first))
    assert (await store.unit_of_work().operators.by_id(clerk.operator_id)).status == "disabled"


async def test_concurrent_logins_with_one_code_commit_once(store, other_store):
    await enrolled(store, operator())
    # Both read the operator before either commits, as two replicas with the same code would.
    units = [store.unit_of_work(), other_store.unit_of_work()]
    for uow in units:
        found = await uow.operators.by_username("clerk.one")
        found.log_in(NOW, 7)
        uow.operators.save(found)

    async def commit(uow) -> bool:
        try:
            await uow.commit()
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(commit(uow) for uow in units))
    assert sorted(results) == [False, True]


async def test_events_are_written_with_the_change(store):
    clerk = operator()
    await enrolled(store, clerk)
    stored = await store.unit_of_work().operators.by_id(clerk.operator_id)
    stored.fail(NOW, LockoutPolicy())
    await committed(store, lambda uow: uow.operators.save(stored))
    claimed = await store.outbox.claim("relay", 10, NOW, timedelta(minutes=1))
    subjects = [m.subject for m in claimed]
    assert subjects == ["evt.registry.operator.added", "evt.registry.operator.login_failed"]
    payloads = [json.loads(m.payload) for m in claimed]
    assert {p["operator_id"] for p in payloads} == {clerk.operator_id}
    assert all("clerk.one" not in m.payload for m in claimed)


async def test_operator_sessions_join_their_operator_and_revoke_together(store):
    await added(store, account())
    clerk, other = operator(), operator("clerk.two")
    await enrolled(store, clerk, other)
    mine = [operator_session(f"o{n}", clerk.operator_id) for n in range(3)]
    theirs = operator_session("t1", other.operator_id)
    await committed(
        store, lambda uow: [uow.sessions.add(s) for s in (*mine, theirs, session("a1"))]
    )
    uow = store.unit_of_work()
    found = await uow.sessions.with_operator("o0")
    assert found is not None and found[0] == mine[0] and found[1] == clerk
    assert found[0].principal == clerk.operator_id
    # An account's session is no operator's, and an operator's no account's.
    assert await uow.sessions.with_operator("a1") is None
    assert await uow.sessions.with_account("o0") is None

    async with store.unit_of_work() as uow:
        tally = uow.sessions.revoke_operator(clerk.operator_id, NOW, keep="o2")
        await uow.commit()
    assert tally.count == 2
    uow = store.unit_of_work()
    live = {
        sid: (await uow.sessions.with_operator(sid))[0].live_at(NOW)
        for sid in ("o0", "o1", "o2", "t1")
    }
    assert live == {"o0": False, "o1": False, "o2": True, "t1": True}
    _, acc = await uow.sessions.with_account("a1")
    assert acc == account()


def test_an_employer_needs_its_unit_and_no_one_else_has_one():
    with pytest.raises(OperatorInputError):
        operator("hr", "employer", None)
    with pytest.raises(OperatorInputError):
        operator("clerk", "counter", "123456789")
    assert replace(operator("hr", "employer", "123456789")).unit_id == "123456789"
