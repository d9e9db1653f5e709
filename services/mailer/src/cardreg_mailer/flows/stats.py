"""mailer.stats.get: the counters, straight from the ledger (they survive restarts)."""

from __future__ import annotations

from cardreg_shared.models.common import Empty
from cardreg_shared.models.mail import MailerStatsReply

from .ports import Ledger


class ReportStats:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def __call__(self, _: Empty) -> MailerStatsReply:
        return MailerStatsReply(**await self._ledger.counters())
