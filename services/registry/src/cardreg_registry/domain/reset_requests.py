"""A password-reset request the registry has accepted and still has to work off.

The reply to a reset request goes out before anything about the account is looked at (so that
neither it nor its timing tells whether an account exists), but only after the request is
stored: a request answered `{}` is never lost to a crash, a restarted database or an
unavailable identity service. Its follow-up (look up the account, check a proof, issue the
link and queue the mail) runs from that row, claimed under a lease, and ends by deleting the
row in the same commit as its outcome: the attempt whose claim is still current wins, so a
follow-up that outlived its lease and was taken up by another replica issues nothing twice.

The row holds the holder as identity named them and the request's proof data: both sealed,
and gone when the follow-up ends.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cardreg_shared.models.identity import CardVerifyReply
from cardreg_shared.models.registry import PasswordResetRequest

RETRY_MIN = timedelta(seconds=1)
RETRY_MAX = timedelta(seconds=60)


@dataclass(frozen=True)
class QueuedReset:
    request_id: str
    holder: CardVerifyReply = field(repr=False)
    request: PasswordResetRequest = field(repr=False)
    created_at: datetime
    # How often it has been claimed: a claim counts one up, and a follow-up's closing commit
    # applies only while the count is still the one its claim read.
    attempts: int = 0
    correlation_id: str | None = None

    @classmethod
    def new(
        cls,
        holder: CardVerifyReply,
        request: PasswordResetRequest,
        now: datetime,
        correlation_id: str | None,
    ) -> QueuedReset:
        return cls(secrets.token_urlsafe(16), holder, request, now, 0, correlation_id)

    def payload(self) -> bytes:
        """What the row keeps (sealed by the storage)."""
        return json.dumps(
            {
                "holder": self.holder.model_dump(mode="json"),
                "request": self.request.model_dump(mode="json", exclude_none=True),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_row(
        cls,
        request_id: str,
        payload: bytes,
        created_at: datetime,
        attempts: int,
        correlation_id: str | None,
    ) -> QueuedReset:
        data = json.loads(payload)
        return cls(
            request_id,
            CardVerifyReply.model_validate(data["holder"]),
            PasswordResetRequest.model_validate(data["request"]),
            created_at,
            attempts,
            correlation_id,
        )

    def retry_delay(self) -> timedelta:
        """After a failed attempt: 1 s, 2 s, 4 s ... at most a minute."""
        return min(RETRY_MIN * 2 ** min(max(self.attempts - 1, 0), 6), RETRY_MAX)


def sealing_context(request_id: str) -> str:
    """Bound into the sealed payload: a payload copied to another row does not open."""
    return f"reset-request/{request_id}"
