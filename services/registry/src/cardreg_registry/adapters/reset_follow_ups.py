"""The follow-ups of accepted reset requests (domain/reset_requests.py): claimed from the
database in batches, each worked off on a task of its own, and tried again later when a part
they need is unavailable.

Like the outbox relay, the follow-ups wake when a commit of this process stores a request,
and also poll: requests accepted by another replica, postponed, or left behind by a crash go
out without new traffic. An attempt that fails postpones its request (1 s, 2 s, 4 s ... a
minute); if even that fails, the claim's lease running out makes it due again. A request is
never dropped, except one older than a reset link's lifetime, whose link would be dead on
arrival.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from cardreg_shared import logs
from cardreg_shared.errors import ServiceFailure
from cardreg_shared.logs import stack_of
from cardreg_shared.tasks import within

from ..domain.reset_requests import QueuedReset
from ..flows.ports import Clock, Conflict, ResetRequestFeed

log = logging.getLogger("cardreg.registry.password_reset")

FollowUp = Callable[[QueuedReset], Awaitable[str]]

STOP_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_FAILED_CLAIM_SECONDS = 1.0


class ResetFollowUps:
    def __init__(
        self,
        feed: ResetRequestFeed,
        follow_up: FollowUp,
        clock: Clock,
        *,
        limit: int,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._feed = feed
        self._follow_up = follow_up
        self._clock = clock
        self._limit = limit
        self._poll = poll_seconds
        self._lease = lease
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reset follow-ups")

    async def stop(self) -> None:
        """Finish the follow-ups in hand (bounded); what is left is due again at next start,
        or on another replica once its lease ends."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._feed.written.set()
        await within(STOP_TIMEOUT_SECONDS, task, "the reset follow-ups")

    async def settled(self, poll: float = 0.02) -> None:
        """Until every request stored so far has been worked off (tests, embedding)."""
        while await self._feed.pending():
            await asyncio.sleep(poll)

    async def _run(self) -> None:
        wake = self._feed.written
        while not self._stopping.is_set():
            wake.clear()
            try:
                batch = await self._feed.claim(self._limit, self._clock(), self._lease)
            except Exception as exc:  # noqa: BLE001 - the database away: try again shortly
                log.warning("claiming reset requests failed: %s", _reason(exc))
                batch, wait = [], RETRY_AFTER_FAILED_CLAIM_SECONDS
            else:
                wait = self._poll
            if batch:
                await asyncio.gather(*(self._attempt(queued) for queued in batch))
                if len(batch) == self._limit:
                    continue  # more may be due at once
            try:
                await asyncio.wait_for(wake.wait(), wait)
            except TimeoutError:
                pass

    async def _attempt(self, queued: QueuedReset) -> None:
        # The mail this queues carries the id of the gateway request that asked for it.
        token = logs.set_correlation_id(queued.correlation_id)
        try:
            await self._follow_up(queued)
        except Conflict:
            log.info("reset request taken over by a later attempt; nothing done here")
        except ServiceFailure as failure:  # storage or identity unavailable
            await self._postpone(queued, failure.code.value, log.warning)
        except Exception as exc:  # noqa: BLE001 - logged with its stack, tried again
            await self._postpone(queued, stack_of(exc), log.error)
        finally:
            logs.reset_correlation_id(token)

    async def _postpone(
        self, queued: QueuedReset, reason: str, report: Callable[..., None]
    ) -> None:
        delay = queued.retry_delay()
        report(
            "reset request attempt %d failed; again in %.0f s: %s",
            queued.attempts,
            delay.total_seconds(),
            reason,
        )
        try:
            await self._feed.postpone(queued, self._clock() + delay)
        except Exception as exc:  # noqa: BLE001 - the lease running out retries it instead
            log.warning("postponing a reset request failed: %s", _reason(exc))


def _reason(exc: BaseException) -> str:
    return exc.code.value if isinstance(exc, ServiceFailure) else type(exc).__name__
