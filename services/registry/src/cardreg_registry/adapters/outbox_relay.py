"""The outbox relay: publishes queued events and mail to their JetStream streams, in the order
they were written.

Rows are claimed for a while (a lease) before they are published, so replicas sharing the
database relay different rows. A row is marked published only after JetStream acknowledged
it, so a crash in between publishes it again later; the stream's duplicate window drops that
copy, because the message id (`Nats-Msg-Id`) is the row's own stable id (the mail request's
`request_id`, the event's `event_id`), and the mailer's ledger keys on the same id.

The relay wakes when a commit queues a row, and also polls, so rows left behind by a crash or
an outage go out without any new traffic. A failed publish is retried with backoff; a row is
never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from datetime import timedelta

import nats.errors
from cardreg_shared import bus, logs
from cardreg_shared.logs import stack_of
from cardreg_shared.metrics import Sampler
from cardreg_shared.subjects import Stream
from cardreg_shared.tasks import within
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.errors import NoStreamResponseError

from ..domain.outbox import OutboxMessage
from ..flows.ports import Clock, OutboxFeed
from ..metrics import OUTBOX_BACKLOG, OUTBOX_FAILURES, OUTBOX_LAG, OUTBOX_PUBLISHED

log = logging.getLogger("cardreg.registry.outbox")

BATCH = 100
PRUNE_EVERY_SECONDS = 3600.0
BACKOFF_MIN_SECONDS = 0.1
STOP_TIMEOUT_SECONDS = 10.0


def relay_name() -> str:
    """Who holds a claim: unique per relay, readable in the database."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


class OutboxRelay:
    def __init__(
        self,
        feed: OutboxFeed,
        js: JetStreamContext,
        clock: Clock,
        *,
        streams: Sequence[Stream],
        poll_seconds: float = 1.0,
        backoff_max_seconds: float = 30.0,
        retention: timedelta = timedelta(days=1),
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self._feed = feed
        self._js = js
        self._streams = tuple(streams)
        self._lease = lease
        self._name = relay_name()
        self._clock = clock
        self._poll = poll_seconds
        self._backoff_max = max(backoff_max_seconds, BACKOFF_MIN_SECONDS)
        self._retention = retention
        self._stopping = asyncio.Event()
        self._stream_ready = False
        self._next_prune = 0.0
        self._task: asyncio.Task | None = None
        # For operators and tests: what went out, how often publishing failed.
        self.published = 0
        self.failures = 0
        self._sampler = Sampler("outbox", self._sample, max(poll_seconds, 1.0))

    async def _sample(self) -> None:
        """The backlog and the lag (the age of its oldest row), for operators."""
        count, oldest = await self._feed.pending()
        OUTBOX_BACKLOG.set(count)
        lag = 0.0 if oldest is None else (self._clock() - oldest).total_seconds()
        OUTBOX_LAG.set(max(lag, 0.0))

    async def start(self) -> None:
        """Create the streams if needed and start relaying. JetStream being unreachable does
        not stop the service: the relay keeps trying, and the rows wait in the outbox."""
        try:
            await self._ensure_stream()
        except nats.errors.Error as exc:
            log.warning("JetStream not reachable at start-up (%s); will retry", type(exc).__name__)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._task.add_done_callback(_report_end)
        self._sampler.start()

    async def stop(self) -> None:
        """One last pass for what was just queued, then stop; what is left goes at next start."""
        await self._sampler.stop()
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._feed.written.set()
        await within(STOP_TIMEOUT_SECONDS, task, "the outbox relay")

    async def _run(self) -> None:
        delay = BACKOFF_MIN_SECONDS
        wake = self._feed.written
        while True:
            wake.clear()
            if await self._attempt(delay):
                delay = BACKOFF_MIN_SECONDS
                if self._stopping.is_set():
                    return
                try:
                    await asyncio.wait_for(wake.wait(), self._poll)
                except TimeoutError:
                    pass
            else:
                if self._stopping.is_set() or await self._stopped_within(delay):
                    return
                delay = min(delay * 2, self._backoff_max)

    async def _attempt(self, retry_in: float) -> bool:
        """One pass over the unpublished rows; False when it has to be retried."""
        try:
            await self._ensure_stream()
            await self._publish_pending()
            await self._prune_if_due()
        except nats.errors.Error as exc:
            # The expected outage: JetStream briefly unavailable.
            log.warning("outbox relay: %s; retrying in %.1f s", type(exc).__name__, retry_in)
        # A relay that died would strand every later message (the database failing, say).
        except Exception as exc:  # noqa: BLE001 - logged with its stack
            log.error("outbox relay failed; retrying in %.1f s: %s", retry_in, stack_of(exc))
        else:
            return True
        self.failures += 1
        OUTBOX_FAILURES.inc()
        return False

    async def _ensure_stream(self) -> None:
        if not self._stream_ready:
            await bus.ensure_streams(self._js, self._streams)
            self._stream_ready = True

    async def _publish_pending(self) -> None:
        while True:
            batch = await self._feed.claim(self._name, BATCH, self._clock(), self._lease)
            done: list[str] = []
            try:
                for message in batch:
                    await self._publish(message)
                    done.append(message.msg_id)
            finally:
                # What JetStream acknowledged is marked even when a later publish failed.
                await self._feed.published(done, self._clock())
                self.published += len(done)
                OUTBOX_PUBLISHED.inc(len(done))
            if len(batch) < BATCH:
                return

    async def _publish(self, message: OutboxMessage) -> None:
        try:
            ack = await self._js.publish(
                message.subject,
                message.payload.encode("utf-8"),
                stream=message.stream,
                headers={
                    Header.MSG_ID: message.msg_id,
                    **(
                        {logs.CORRELATION_HEADER: message.correlation_id}
                        if message.correlation_id
                        else {}
                    ),
                },
            )
        except NoStreamResponseError:
            # No stream takes the subject (deleted?): create it again before the retry.
            self._stream_ready = False
            raise
        if ack.duplicate:
            log.info("outbox message was already on %s (duplicate dropped)", message.stream)

    async def _prune_if_due(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        if loop_now < self._next_prune:
            return
        self._next_prune = loop_now + PRUNE_EVERY_SECONDS
        pruned = await self._feed.prune(self._clock() - self._retention)
        if pruned:
            log.info("pruned %d published outbox rows", pruned)

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True


def _report_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("outbox relay ended: %s", type(task.exception()).__name__)
