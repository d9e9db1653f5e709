"""Every submitted card read: use up its challenge, run the flow, record the outcome.

The challenge is consumed before anything else so that a card read is checked at most once,
whichever replica receives it; the event is recorded whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import CardRead
from cardreg_shared.models.events import CardReadFlow

T = TypeVar("T")


class Challenges(Protocol):
    async def consume(self, nonce: str) -> None: ...


class CardReadLog(Protocol):
    async def record(self, flow: CardReadFlow, outcome: str) -> str: ...


class CardReadCheck:
    def __init__(self, challenges: Challenges, events: CardReadLog) -> None:
        self._challenges = challenges
        self._events = events

    async def run(
        self, flow: CardReadFlow, card: CardRead, action: Callable[[], Awaitable[T]]
    ) -> T:
        outcome = ErrorCode.INTERNAL.value  # unless the flow says otherwise below
        try:
            await self._challenges.consume(card.nonce)
            result = await action()
            outcome = "ok"
            return result
        except ServiceFailure as exc:
            outcome = exc.code.value
            raise
        finally:
            await self._events.record(flow, outcome)
