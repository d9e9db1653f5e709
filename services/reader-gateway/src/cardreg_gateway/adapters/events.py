"""`evt.reader.card.read` on JetStream: one event per submitted card read, no personal data.

The event is handed to JetStream without waiting for its ack (`bus.publish_event_soon`), so
neither a slow JetStream nor an outage ever delays the reply to the card read; a lost event
is logged with its read id and the failure's type.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cardreg_shared import bus
from cardreg_shared.models.events import CardReadEvent, CardReadFlow
from cardreg_shared.subjects import CARD_READ
from nats.js import JetStreamContext


class CardReadEvents:
    def __init__(self, js: JetStreamContext, *, ack_timeout: float = bus.DEFAULT_TIMEOUT) -> None:
        self._js = js
        self._ack_timeout = ack_timeout

    async def record(self, flow: CardReadFlow, outcome: str) -> str:
        """Publish and return the read id; never raises, never waits for JetStream."""
        read_id = uuid.uuid4().hex
        event = CardReadEvent(
            read_id=read_id, occurred_at=datetime.now(UTC), flow=flow, outcome=outcome
        )
        await bus.publish_event_soon(
            self._js, CARD_READ, event, msg_id=read_id, ack_timeout=self._ack_timeout
        )
        return read_id

    async def flushed(self) -> None:
        """Until every event handed over so far is acked, refused or given up on (each is
        bounded by the ack timeout): at shutdown, and for tests."""
        await self._js.publish_async_completed()
