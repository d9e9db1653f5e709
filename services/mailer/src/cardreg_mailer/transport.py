"""The bus side of the mailer, and the only module that knows it:

- `mailer.stats.get` on a ServiceHost named `mailer` (discovery and the healthcheck find it);
- the MAIL stream through the durable pull consumer `mailer`: a bounded number of deliveries
  in hand, each settled by the flow with ack, nak-with-delay or a dead letter.

JetStream counts deliveries (`num_delivered`) across restarts, so attempts survive a crash.
While a delivery is in hand it is kept alive with in-progress acks: a slow send or a wait for
a free SMTP connection is never taken for a lost consumer and handed out twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

import nats.errors
import nats.js.errors
from cardreg_shared import logs
from cardreg_shared.bus import ServiceHost, ensure_streams, replicated
from cardreg_shared.logs import stack_of
from cardreg_shared.metrics import consumer_lag
from cardreg_shared.models.mail import DeadLetter
from cardreg_shared.subjects import MAIL_STREAM, MAILER_STATS, dead_letter_subject
from cardreg_shared.tasks import TaskPool
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header

from .flows.deliver import DeliverMail
from .flows.stats import ReportStats

log = logging.getLogger("cardreg.mailer")

DURABLE = "mailer"
# With requests waiting, a pull returns at once; this bounds the wait when there are none.
_BURST_WAIT = 0.05
_NATS_ERRORS = (nats.errors.Error, nats.js.errors.Error, TimeoutError)


def register(host: ServiceHost, *, stats: ReportStats) -> None:
    host.add(MAILER_STATS, stats)


class StreamDelivery:
    """One JetStream delivery as the flow sees it (`flows.ports.Delivery`)."""

    def __init__(self, msg: Msg, js: JetStreamContext) -> None:
        self._message = msg
        self._js = js
        self.held_since = time.monotonic()

    @property
    def subject(self) -> str:
        return self._message.subject

    @property
    def data(self) -> bytes:
        return self._message.data

    @property
    def attempts(self) -> int:
        return self._message.metadata.num_delivered

    @property
    def correlation_id(self) -> str:
        """The id of the request that queued this mail (relayed from the registry's outbox),
        or a new one: the delivery's log lines carry it."""
        sent = (self._message.headers or {}).get(logs.CORRELATION_HEADER)
        return logs.accepted_correlation_id(sent)

    @property
    def settled(self) -> bool:
        return self._message.is_acked

    async def done(self) -> None:
        await self._message.ack()

    async def retry_in(self, seconds: float) -> None:
        await self._message.nak(delay=seconds)

    async def give_up(self, reason: str, *, request_id: str | None) -> None:
        letter = DeadLetter(
            subject=self.subject,
            attempts=self.attempts,
            reason=reason,
            payload=self.data.decode("utf-8", errors="replace"),
        )
        # The stream deduplicates on the id: a redelivered copy adds no second letter.
        msg_id = request_id or f"{MAIL_STREAM.name}-{self._message.metadata.sequence.stream}"
        await self._js.publish(
            dead_letter_subject(self.subject),
            letter.model_dump_json().encode(),
            headers={Header.MSG_ID: msg_id},
        )
        await self._message.ack()

    async def keep_alive(self) -> None:
        await self._message.in_progress()
        self.held_since = time.monotonic()

    async def release(self, delay: float) -> None:
        """Hand an unsettled delivery back (after an unexpected failure)."""
        await self._message.nak(delay=delay)


class MailConsumer:
    """Pulls mail requests while there is room, one task per delivery, at most `limit` at once."""

    def __init__(
        self,
        js: JetStreamContext,
        deliver: DeliverMail,
        *,
        limit: int,
        ack_wait: float,
        fetch_wait: float,
        release_delay: float,
        replicas: int = 1,
    ) -> None:
        self._js = js
        self._replicas = replicas
        self._deliver = deliver
        self._limit = limit
        self._ack_wait = ack_wait
        self._fetch_wait = fetch_wait
        self._release_delay = release_delay
        self._held: set[StreamDelivery] = set()
        self._settling = TaskPool(limit, name="mail delivery")
        self._stopping = asyncio.Event()
        self._sub: JetStreamContext.PullSubscription | None = None
        self._loops: list[asyncio.Task] = []
        self._lag = consumer_lag(js, MAIL_STREAM.name, DURABLE)

    async def start(self) -> None:
        await self._ensure_consumer()
        self._sub = await self._js.pull_subscribe_bind(durable=DURABLE, stream=MAIL_STREAM.name)
        self._lag.start()
        self._loops = [
            asyncio.create_task(self._pull(), name="mailer-pull"),
            asyncio.create_task(self._keep_alive(), name="mailer-keep-alive"),
        ]

    async def _ensure_consumer(self) -> None:
        """Create or update the stream and the durable consumer (a changed ack_wait applies)."""
        await ensure_streams(self._js, replicated([MAIL_STREAM], self._replicas))
        config = ConsumerConfig(
            name=DURABLE,
            durable_name=DURABLE,
            filter_subject=MAIL_STREAM.subjects[0],
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            # Attempts are the mailer's business: it dead-letters after its own maximum.
            max_deliver=-1,
        )
        await self._js.add_consumer(MAIL_STREAM.name, config)

    async def stop(self) -> None:
        """Stop pulling, let every delivery in hand be settled, then leave the consumer."""
        self._stopping.set()
        await self._lag.stop()
        pull, keeper = self._loops or (None, None)
        if pull is not None:
            await pull
        await self._settling.wait()
        if keeper is not None:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except _NATS_ERRORS:
                pass  # the connection is already gone; the durable consumer stays
            self._sub = None

    async def _pull(self) -> None:
        backlog = False
        while not self._stopping.is_set():
            # Refill when half the room is free: every SMTP connection stays busy, pulls batch.
            await self._settling.room(self._limit - self._limit // 2)
            free = self._settling.free
            want = free if backlog else 1
            try:
                msgs = await self._sub.fetch(
                    want, timeout=_BURST_WAIT if backlog else self._fetch_wait
                )
            except TimeoutError:  # nats' own and asyncio's: nothing to pull right now
                backlog = False
                continue
            except _NATS_ERRORS as exc:
                if self._stopping.is_set():
                    return
                log.warning("pulling mail requests failed: %s", type(exc).__name__)
                await self._recover()
                continue
            # A bug must not end consumption while the service looks healthy.
            except Exception as exc:  # noqa: BLE001 - logged with its stack
                log.error("pulling mail requests failed: %s", stack_of(exc))
                await self._recover()
                continue
            for msg in msgs:
                await self._hold(msg)
            backlog = len(msgs) == want

    async def _hold(self, msg: Msg) -> None:
        delivery = StreamDelivery(msg, self._js)
        self._held.add(delivery)
        await self._settling.spawn(lambda: self._settle(delivery))

    async def _settle(self, delivery: StreamDelivery) -> None:
        logs.set_correlation_id(delivery.correlation_id)  # this task's own context
        try:
            await self._deliver(delivery)
        except Exception as exc:  # noqa: BLE001 - logged with its stack
            # Ledger or bus trouble, or a bug: the request goes back, it is not lost. The
            # exception's message may quote an address: log its type and stack only.
            log.error(
                "mail delivery failed; handed back attempts=%d: %s",
                delivery.attempts,
                stack_of(exc),
            )
            if not delivery.settled:
                try:
                    await delivery.release(self._release_delay)
                except _NATS_ERRORS:
                    pass  # redelivered after ack_wait anyway
        finally:
            self._held.discard(delivery)

    async def _keep_alive(self) -> None:
        every = self._ack_wait / 3
        while True:
            await asyncio.sleep(every / 2)
            now = time.monotonic()
            for delivery in list(self._held):
                if not delivery.settled and now - delivery.held_since >= every:
                    try:
                        await delivery.keep_alive()
                    except _NATS_ERRORS as exc:
                        log.warning("in-progress ack failed: %s", type(exc).__name__)

    async def _recover(self) -> None:
        """After a failed pull: wait a little, then make sure stream and consumer exist (an
        operator may have deleted them; the bus may be reconnecting, then this fails too)."""
        await self._pause(1.0)
        if self._stopping.is_set():
            return
        try:
            await self._ensure_consumer()
        except _NATS_ERRORS as exc:
            log.warning("restoring the mail consumer failed: %s", type(exc).__name__)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass
