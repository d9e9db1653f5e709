"""Asking for a reset link (FAQ 7): one answer, whatever the account's state.

The caller may learn only what does not depend on the account: problems with the card read
itself (challenge, signature, roster), with the request's shape, and outages. Every other
outcome (no account, deactivated, no address, wrong household data, rate-limited, link sent)
is answered as accepted. The registry promises the same; this is the edge's own guard, so a
registry that ever says more still cannot tell the caller. The card-read event keeps the
real outcome for operators.
"""

from __future__ import annotations

import logging
from typing import Protocol

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import PasswordResetRequest

from .card_reads import CardReadCheck

log = logging.getLogger("cardreg.gateway.password_resets")

# Failures a reset request answers as such: none of them depends on the account.
ACCOUNT_BLIND = frozenset(
    {
        ErrorCode.NONCE_INVALID,
        ErrorCode.CARD_UNKNOWN,
        ErrorCode.CARD_SIGNATURE_INVALID,
        ErrorCode.CARD_DATA_MISMATCH,
        ErrorCode.CARD_REPLACED,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNAVAILABLE,
        ErrorCode.INTERNAL,
    }
)


class ResetDesk(Protocol):
    async def request_password_reset(self, request: PasswordResetRequest) -> None: ...


class ResetRequests:
    def __init__(self, card_reads: CardReadCheck, desk: ResetDesk) -> None:
        self._card_reads = card_reads
        self._desk = desk

    async def submit(self, request: PasswordResetRequest) -> None:
        """Return when the request counts as accepted; raise only account-blind failures."""
        try:
            await self._card_reads.run(
                "password_reset", request.card, lambda: self._desk.request_password_reset(request)
            )
        except ServiceFailure as exc:
            if exc.code in ACCOUNT_BLIND:
                raise
            log.debug("reset request answered as accepted after %s", exc.code.value)
