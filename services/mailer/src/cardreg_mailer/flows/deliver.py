"""Deliver one mail request: at most once per request id, never acked before it is settled.

    parse -> already sent? (ack, skip) -> check -> render -> SMTP
      accepted        -> record in the ledger at once -> ack
      deferred        -> retry later with backoff, or dead-letter when attempts are used up
      refused / bad   -> dead-letter -> ack

The only gap that can double a mail is a crash between the server's acceptance and the ledger
record; every resend then carries the same Message-ID, so the copies are recognisable.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cardreg_shared.logs import stack_of

from ..domain.envelope import compose, from_header
from ..domain.requests import (
    InvalidRequest,
    MailRequest,
    UnreadableRequest,
    check_request,
    parse_request,
)
from ..domain.retry import RetryPolicy
from ..metrics import MAILS
from .ports import (
    Delivery,
    DeliveryDeferred,
    DeliveryRefused,
    Ledger,
    LedgerUnavailable,
    Renderer,
    Sender,
)

log = logging.getLogger("cardreg.mailer")


class RequestClaims:
    """One delivery per request id at a time in this process.

    The same request can be in hand twice (published twice, or redelivered while a slow send
    still runs); the second waits and then finds it in the ledger instead of sending again.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, request_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(request_id, (asyncio.Lock(), 0))
        self._locks[request_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[request_id]
            if users == 1:
                del self._locks[request_id]
            else:
                self._locks[request_id] = (lock, users - 1)


class DeliverMail:
    def __init__(
        self,
        ledger: Ledger,
        renderer: Renderer,
        sender: Sender,
        *,
        mail_from: str,
        sender_address: str,
        policy: RetryPolicy,
        rng: random.Random | None = None,
    ) -> None:
        self._ledger = ledger
        self._renderer = renderer
        self._sender = sender
        self._from_header = from_header(mail_from)
        self._sender_address = sender_address
        self._policy = policy
        self._rng = rng or random.Random()
        self._claims = RequestClaims()

    async def __call__(self, delivery: Delivery) -> str:
        """Settle the delivery; returns the outcome (for logs and tests), counted in
        `cardreg_mails_total` (sent, retried, dead_lettered, duplicate_skipped)."""
        outcome = await self._settle(delivery)
        MAILS.labels("retried" if outcome.startswith("deferred") else outcome).inc()
        return outcome

    async def _settle(self, delivery: Delivery) -> str:
        try:
            request = parse_request(delivery.subject, delivery.data)
        except UnreadableRequest:
            await self._give_up(delivery, "unreadable", request_id=None)
            # The subject is a purpose (`mail.password_reset`), never personal.
            log.warning(
                "mail unreadable subject=%s attempts=%d outcome=dead_lettered",
                delivery.subject,
                delivery.attempts,
            )
            return "dead_lettered"
        async with (
            self._claims.hold(request.request_id),
            self._ledger.hold(request.request_id) as held,
        ):
            if held:
                outcome = await self._deliver(delivery, request)
            else:
                # Another mailer is sending it: look again once it is done.
                await delivery.retry_in(self._policy.delay(1, self._rng))
                outcome = "held elsewhere"
        log.info(
            "mail request_id=%s kind=%s attempts=%d outcome=%s",
            request.request_id,
            request.kind,
            delivery.attempts,
            outcome,
        )
        return outcome

    async def _deliver(self, delivery: Delivery, request: MailRequest) -> str:
        if await self._ledger.is_sent(request.request_id):
            await delivery.done()
            await self._ledger.count("duplicates_skipped")
            return "duplicate_skipped"
        try:
            check_request(request)
            mail = compose(request, self._renderer.render(request), self._from_header)
        except InvalidRequest as exc:
            await self._give_up(delivery, f"invalid {exc.field}", request_id=request.request_id)
            return "dead_lettered"
        try:
            await self._sender.send(mail.data, sender=self._sender_address, recipient=request.to)
        except DeliveryRefused as exc:
            await self._give_up(delivery, f"refused: {exc.reason}", request_id=request.request_id)
            return "dead_lettered"
        except DeliveryDeferred as exc:
            return await self._defer(delivery, request.request_id, exc.reason)
        # Accepted: nothing may come between this point and the ledger record.
        await self._record(request, mail.message_id)
        await delivery.done()
        return "sent"

    async def _record(self, request: MailRequest, message_id: str) -> None:
        try:
            await self._ledger.record_sent(request.request_id, request.kind, message_id)
        except LedgerUnavailable as exc:
            # The server has the mail: acking anyway is right (a resend would double it); only
            # a later republish of this request could now be sent again.
            log.error("ledger record failed request_id=%s: %s", request.request_id, stack_of(exc))

    async def _defer(self, delivery: Delivery, request_id: str, reason: str) -> str:
        if self._policy.exhausted(delivery.attempts):
            await self._give_up(delivery, f"attempts exhausted: {reason}", request_id=request_id)
            return "dead_lettered"
        await delivery.retry_in(self._policy.delay(delivery.attempts, self._rng))
        await self._ledger.count("retries")
        return f"deferred ({reason})"

    async def _give_up(self, delivery: Delivery, reason: str, *, request_id: str | None) -> None:
        await delivery.give_up(reason, request_id=request_id)
        await self._ledger.count("dead_lettered")
