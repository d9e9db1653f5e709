"""The one bounded task pool: a slot per task, back-pressure when full, failures logged."""

from __future__ import annotations

import asyncio

import pytest
from cardreg_shared.tasks import TaskPool, within


async def test_spawn_waits_for_a_free_slot_and_wait_sees_every_task_end() -> None:
    pool = TaskPool(2, name="work")
    release = asyncio.Event()
    done: list[int] = []

    async def job(n: int) -> None:
        await release.wait()
        done.append(n)

    await pool.spawn(lambda: job(1))
    await pool.spawn(lambda: job(2))
    assert pool.free == 0
    third = asyncio.create_task(pool.spawn(lambda: job(3)))
    await asyncio.sleep(0.01)
    assert not third.done()  # back-pressure, not a queue
    release.set()
    await third
    await pool.wait()
    assert sorted(done) == [1, 2, 3] and len(pool) == 0


async def test_room_waits_until_enough_slots_are_free() -> None:
    pool = TaskPool(4, name="work")
    gates = [asyncio.Event() for _ in range(4)]
    for gate in gates:
        await pool.spawn(gate.wait)
    room = asyncio.create_task(pool.room(2))
    gates[0].set()
    await asyncio.sleep(0.01)
    assert not room.done()
    gates[1].set()
    await asyncio.wait_for(room, 1)
    for gate in gates:
        gate.set()
    await pool.wait()


async def test_a_failing_task_is_logged_by_type_not_message(caplog) -> None:
    pool = TaskPool(1, name="follow-up")

    secret = "A123456789"

    async def fails() -> None:
        raise ValueError(secret)

    await pool.spawn(fails)
    await pool.wait()
    assert "follow-up failed: ValueError" in caplog.text
    assert "A123456789" not in caplog.text


def test_a_pool_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        TaskPool(0, name="none")


async def test_a_stop_step_that_hangs_is_cancelled_at_its_bound(caplog) -> None:
    cancelled = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def quick() -> None:
        await asyncio.sleep(0)

    assert await within(0.05, quick(), "a quick step")
    assert not await within(0.05, hangs(), "the hanging step")
    assert cancelled.is_set()
    assert "stopping: the hanging step did not finish within" in caplog.text


async def test_within_reports_a_failed_step_and_lets_the_stop_go_on(caplog) -> None:
    async def fails() -> None:
        raise ConnectionResetError("the bus went away")

    assert not await within(1, fails(), "the failing step")
    assert "stopping: the failing step failed (ConnectionResetError)" in caplog.text
    assert "the bus went away" not in caplog.text
