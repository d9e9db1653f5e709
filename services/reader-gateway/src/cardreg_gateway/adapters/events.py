"""`evt.reader.card.read` on JetStream: one event per submitted card read, no personal data."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from cardreg_shared import bus
from cardreg_shared.models.events import CardReadEvent, CardReadFlow
from cardreg_shared.subjects import CARD_READ
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

log = logging.getLogger("cardreg.gateway.events")


class CardReadEvents:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def record(self, flow: CardReadFlow, outcome: str) -> str:
        """Publish and return the read id. A lost event must not fail the user's request:
        JetStream trouble is logged, not raised."""
        read_id = uuid.uuid4().hex
        event = CardReadEvent(
            read_id=read_id, occurred_at=datetime.now(UTC), flow=flow, outcome=outcome
        )
        try:
            await bus.publish_event(self._js, CARD_READ, event, msg_id=read_id)
        except NatsError as exc:
            log.warning("card read event %s not published: %s", read_id, type(exc).__name__)
        return read_id
