"""Events on JetStream. No personal data: consumers correlate by ids, not by people."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from .common import Model

CardReadFlow = Literal["lookup", "registration", "login", "password_reset"]


class CardReadEvent(Model):
    """Every card read the gateway accepted for checking, with what came of it."""

    read_id: str
    occurred_at: datetime
    flow: CardReadFlow
    outcome: str  # "ok" or an error code
