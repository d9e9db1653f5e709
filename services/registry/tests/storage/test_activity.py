"""Account events through the ports: written by the commit of the change (and only then),
read newest first in pages, per account, pruned past the retention."""

from __future__ import annotations

from datetime import timedelta

from cardreg_registry.domain.accounts import Origin

from .conftest import NOW, account, added, committed, read

ONLINE = Origin("online", "card+password")


async def test_events_are_kept_with_the_change_and_paged_newest_first(store, other_store):
    await added(store, account(), account(2))
    for minutes in range(5):
        stored = await read(store)
        stored.session_ended(NOW + timedelta(minutes=minutes), ONLINE)
        await committed(store, lambda uow, a=stored: uow.accounts.save(a))
    # A change that is not committed leaves no event.
    dropped = await read(store)
    dropped.session_ended(NOW, ONLINE)
    async with store.unit_of_work() as uow:
        uow.accounts.save(dropped)

    uow = other_store.unit_of_work()
    page = await uow.activity.page("acc-1", before=None, limit=3)
    assert [e.occurred_at for _, e in page] == [NOW + timedelta(minutes=m) for m in (4, 3, 2)]
    rest = await uow.activity.page("acc-1", before=page[-1][0], limit=3)
    assert [e.occurred_at for _, e in rest] == [NOW + timedelta(minutes=m) for m in (1, 0)]
    assert await uow.activity.page("acc-2", before=None, limit=3) == []
    assert {e.type for _, e in page + rest} == {"session_revoked"}


async def test_events_past_the_retention_are_pruned(store):
    await added(store, account())
    for minutes in (0, 10):
        stored = await read(store)
        stored.session_ended(NOW + timedelta(minutes=minutes), ONLINE)
        await committed(store, lambda uow, a=stored: uow.accounts.save(a))
    async with store.unit_of_work() as uow:
        tally = uow.activity.prune(NOW + timedelta(minutes=5))
        await uow.commit()
    assert tally.count == 1
    page = await store.unit_of_work().activity.page("acc-1", before=None, limit=10)
    assert [e.occurred_at for _, e in page] == [NOW + timedelta(minutes=10)]
