"""Every submitted card read: use up its challenge, run the flow, record the outcome.

The challenge is consumed before anything else so that a card read is checked at most once,
whichever replica receives it; the event is recorded whatever the outcome. A profile-only read
(no signature: a real NHI card) goes no further unless the profile-only pilot mode is on, and
identity applies the same rule again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead
from cardreg_shared.models.events import CardReadFlow

T = TypeVar("T")
log = logging.getLogger("cardreg.gateway.card_reads")


class Challenges(Protocol):
    async def consume(self, nonce: str) -> None: ...


class CardReadLog(Protocol):
    async def record(self, flow: CardReadFlow, outcome: str) -> str: ...


class CardReadCheck:
    def __init__(
        self, challenges: Challenges, events: CardReadLog, *, profile_only: bool = False
    ) -> None:
        self._challenges = challenges
        self._events = events
        self._profile_only = profile_only

    async def run(
        self, flow: CardReadFlow, card: CardRead, action: Callable[[], Awaitable[T]]
    ) -> T:
        outcome = ErrorCode.INTERNAL.value  # unless the flow says otherwise below
        try:
            await self._challenges.consume(card.nonce)
            if card.signature is None:
                if not self._profile_only:
                    raise ServiceFailure(ErrorCode.CARD_SIGNATURE_INVALID)
                log.warning("profile-only card read (pilot mode), flow %s", flow)
            result = await action()
            outcome = "ok"
            return result
        except ServiceFailure as exc:
            outcome = exc.code.value
            raise
        finally:
            await self._events.record(flow, outcome)
