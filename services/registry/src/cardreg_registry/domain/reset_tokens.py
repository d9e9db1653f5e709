"""Password-reset tokens (OWASP, NIST 800-63B): 256 random bits, kept only as a SHA-256 hash,
single use, short-lived; a newer token voids the older ones.

A plain hash suffices (no salt, no slow hash): the token is random and long, so there is
nothing to guess from its hash, and lookup by hash needs no constant-time compare.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TOKEN_BYTES = 32


def new_reset_secret() -> str:
    """The token that goes into the mailed link; it is never stored or logged."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_reset_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def reset_url(public_base_url: str, token: str) -> str:
    """`{base}/reset-password?token=...`; the base comes from configuration, never a request.

    token_urlsafe's alphabet needs no percent-encoding in a query string.
    """
    return f"{public_base_url.rstrip('/')}/reset-password?token={token}"


@dataclass(frozen=True)
class ResetPolicy:
    token_ttl: timedelta = timedelta(minutes=30)
    # At most this many reset mails per account per window (then requests are dropped quietly).
    mails_per_window: int = 3
    window: timedelta = timedelta(hours=1)
    # From configuration only: a link built from a request's Host header could point anywhere.
    public_base_url: str = "http://127.0.0.1:8080"

    @property
    def expires_in_minutes(self) -> int:
        return max(1, math.ceil(self.token_ttl.total_seconds() / 60))


@dataclass(frozen=True)
class ResetToken:
    token_hash: str = field(repr=False)
    account_id: str
    # An address proven by the household / residence path; it becomes the account's email
    # when the reset completes (following the link proves the mailbox).
    pending_email: str | None = field(repr=False)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    voided_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and self.expires_at > now
