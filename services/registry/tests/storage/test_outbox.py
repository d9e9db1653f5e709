"""The outbox through the ports: rows claimed oldest first under a lease, kept from other
relays until the lease runs out, marked published without their payload, pruned later."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from .conftest import NOW, committed, message

LEASE = timedelta(seconds=30)


async def queue(store, *numbers: int) -> None:
    await committed(store, lambda uow: [uow.outbox.add(message(n), NOW) for n in numbers])


async def test_claims_come_oldest_first_and_exclude_other_relays_until_the_lease_ends(
    store, other_store
):
    await queue(store, 1, 2)
    await queue(store, 3)
    first = await store.outbox.claim("relay-a", 2, NOW, LEASE)
    assert [m.msg_id for m in first] == [message(1).msg_id, message(2).msg_id]
    assert first[0].payload == message(1).payload

    other = await other_store.outbox.claim("relay-b", 10, NOW, LEASE)
    assert [m.msg_id for m in other] == [message(3).msg_id]
    # A relay takes up its own claims again (a retry); another waits for the lease to end.
    assert len(await store.outbox.claim("relay-a", 10, NOW, LEASE)) == 2
    assert await other_store.outbox.claim("relay-c", 10, NOW + LEASE / 2, LEASE) == []
    late = await other_store.outbox.claim("relay-c", 10, NOW + LEASE * 2, LEASE)
    assert [m.msg_id for m in late] == [message(n).msg_id for n in (1, 2, 3)]


async def test_racing_relays_claim_disjoint_rows(store, other_store):
    await queue(store, *range(40))
    claims = await asyncio.gather(
        *(
            s.outbox.claim(f"relay-{n}", 7, NOW, LEASE)
            for n, s in enumerate([store, other_store] * 4)
        )
    )
    ids = [m.msg_id for claim in claims for m in claim]
    assert len(ids) == len(set(ids)) == 40


async def test_published_rows_lose_their_payload_and_are_pruned_after_the_cut(store):
    await queue(store, 1, 2, 3)
    claimed = await store.outbox.claim("relay-a", 10, NOW, LEASE)
    await store.outbox.published([claimed[0].msg_id], NOW)
    again = await store.outbox.claim("relay-a", 10, NOW, LEASE)
    assert [m.msg_id for m in again] == [m.msg_id for m in claimed[1:]]

    assert await store.outbox.prune(NOW) == 0
    assert await store.outbox.prune(NOW + timedelta(days=1, seconds=1)) == 1
    # Unpublished rows are never pruned.
    assert len(await store.outbox.claim("relay-a", 10, NOW, LEASE)) == 2


async def test_marking_twice_or_marking_what_is_gone_changes_nothing(store):
    await queue(store, 1)
    (claimed,) = await store.outbox.claim("relay-a", 10, NOW, LEASE)
    await store.outbox.published([claimed.msg_id], NOW)
    await store.outbox.published([claimed.msg_id, "never-queued"], NOW + timedelta(days=2))
    assert await store.outbox.prune(NOW + timedelta(seconds=1)) == 1  # still the first mark


async def test_pending_counts_unpublished_rows_and_dates_the_oldest(store):
    assert await store.outbox.pending() == (0, None)
    await committed(store, lambda uow: uow.outbox.add(message(1), NOW))
    await committed(store, lambda uow: uow.outbox.add(message(2), NOW + LEASE))
    assert await store.outbox.pending() == (2, NOW)
    claimed = await store.outbox.claim("relay-a", 1, NOW, LEASE)
    assert await store.outbox.pending() == (2, NOW)  # claimed is not published
    await store.outbox.published([claimed[0].msg_id], NOW)
    assert await store.outbox.pending() == (1, NOW + LEASE)
