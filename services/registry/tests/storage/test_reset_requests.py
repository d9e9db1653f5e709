"""Accepted reset requests through the ports: stored with their data intact, claimed under a
lease (due again when it ends), postponed, and ended only by the attempt whose claim is still
current, in the same commit as its outcome."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest
from cardreg_registry.adapters.registry_secret import RegistrySecret
from cardreg_registry.domain.reset_requests import QueuedReset
from cardreg_registry.flows.ports import Conflict
from cardreg_shared.models.common import CardRead, Household
from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.registry import PasswordResetRequest

from .conftest import NOW, committed, message

LEASE = timedelta(seconds=60)
CARD = CardRead(
    card_no="000011112222",
    name="林美",
    id_no="A123456789",
    birth_date="1990-01-01",
    sex="F",
    issued_on="2020-01-01",
    nonce="n" * 42 + "A",
    signature="s" * 85 + "A",
)


def queued(n: int) -> QueuedReset:
    holder = CardVerifyReply(
        person_id=f"person-{n}", kind="citizen", card_no="000011112222", id_no="A123456789"
    )
    request = PasswordResetRequest(
        card=CARD,
        household=Household(
            household_no="F1234567", township="大安區", village="龍安里", neighborhood="3"
        ),
        email=f"p{n}@example.com",
    )
    return QueuedReset.new(holder, request, NOW, correlation_id=f"corr-{n}")


async def stored(store, *numbers: int) -> list[QueuedReset]:
    requests = [queued(n) for n in numbers]
    await committed(store, lambda uow: [uow.reset_requests.add(q) for q in requests])
    return requests


async def test_a_claim_returns_the_request_whole_and_holds_it_for_the_lease(store, other_store):
    (request,) = await stored(store, 1)
    assert await store.reset_requests.pending() == 1
    (claimed,) = await store.reset_requests.claim(10, NOW, LEASE)
    assert claimed.request_id == request.request_id
    assert (claimed.holder, claimed.request) == (request.holder, request.request)
    assert (claimed.created_at, claimed.correlation_id) == (NOW, "corr-1")
    assert claimed.attempts == 1

    # Nobody takes it during the lease, not even the claimer; after it, anyone, one further.
    assert await store.reset_requests.claim(10, NOW + LEASE / 2, LEASE) == []
    assert await other_store.reset_requests.claim(10, NOW + LEASE / 2, LEASE) == []
    (again,) = await other_store.reset_requests.claim(10, NOW + LEASE * 2, LEASE)
    assert again.attempts == 2


async def test_claims_come_oldest_first_and_racing_claims_take_disjoint_requests(
    store, other_store
):
    requests = await stored(store, *range(30))
    first = await store.reset_requests.claim(3, NOW, LEASE)
    assert [q.request_id for q in first] == [q.request_id for q in requests[:3]]
    claims = await asyncio.gather(
        *(s.reset_requests.claim(4, NOW, LEASE) for s in [store, other_store] * 4)
    )
    ids = [q.request_id for claim in claims for q in claim]
    assert len(ids) == len(set(ids)) == 27


async def test_the_current_attempt_ends_a_request_in_the_commit_of_its_outcome(store):
    await stored(store, 1)
    (claimed,) = await store.reset_requests.claim(10, NOW, LEASE)
    await committed(
        store,
        lambda uow: [uow.outbox.add(message(1), NOW), uow.reset_requests.finish(claimed)],
    )
    assert await store.reset_requests.pending() == 0
    assert len(await store.outbox.claim("relay", 10, NOW, timedelta(seconds=30))) == 1


async def test_an_attempt_taken_over_by_a_later_claim_ends_nothing_and_writes_nothing(
    store, other_store
):
    await stored(store, 1)
    (stale,) = await store.reset_requests.claim(10, NOW, LEASE)
    (current,) = await other_store.reset_requests.claim(10, NOW + LEASE * 2, LEASE)
    with pytest.raises(Conflict):
        await committed(
            store,
            lambda uow: [uow.outbox.add(message(1), NOW), uow.reset_requests.finish(stale)],
        )
    assert await store.outbox.claim("relay", 10, NOW, timedelta(seconds=30)) == []
    await store.reset_requests.postpone(stale, NOW)  # ignored: not its claim any more
    assert await store.reset_requests.claim(10, NOW + LEASE * 2, LEASE) == []

    await committed(other_store, lambda uow: uow.reset_requests.finish(current))
    assert await store.reset_requests.pending() == 0
    with pytest.raises(Conflict):  # and it ends once
        await committed(other_store, lambda uow: uow.reset_requests.finish(current))


async def test_a_postponed_request_is_due_again_at_its_retry_time(store):
    await stored(store, 1)
    (claimed,) = await store.reset_requests.claim(10, NOW, LEASE)
    retry = NOW + timedelta(seconds=4)
    await store.reset_requests.postpone(claimed, retry)
    assert await store.reset_requests.claim(10, retry - timedelta(seconds=1), LEASE) == []
    (again,) = await store.reset_requests.claim(10, retry, LEASE)
    assert again.attempts == 2


async def test_a_request_that_no_longer_opens_is_dropped_not_claimed_for_ever(
    backend, store, caplog
):
    foreign = await backend.open(RegistrySecret(secrets.token_bytes(32)).sealer())
    await stored(foreign, 1)
    (readable,) = await stored(store, 2)
    assert [q.request_id for q in await store.reset_requests.claim(10, NOW, LEASE)] == [
        readable.request_id
    ]
    assert "a stored reset request does not read (SecretUnusable); dropped" in caplog.text
    assert await store.reset_requests.pending() == 1  # the readable one, in hand
