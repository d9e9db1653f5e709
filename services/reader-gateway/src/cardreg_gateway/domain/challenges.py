"""Card challenges: a fresh 256-bit nonce, the key it is stored under, its ticket.

The store key is a SHA-256 of the raw nonce so that the nonce itself never appears in a
subject. The ticket carries its own expiry: a bucket's TTL only collects garbage, it is not
exact to the second, and a replica may run with a shorter TTL than the bucket.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

NONCE_BYTES = 32
USED = b"used"


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def nonce_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Ticket:
    """An issued, not yet used challenge."""

    expires_at: float  # epoch seconds: wall clock, shared by every replica

    def is_live(self, now: float) -> bool:
        return now < self.expires_at

    def encode(self) -> bytes:
        return json.dumps({"exp": self.expires_at}).encode()

    @classmethod
    def decode(cls, value: bytes) -> Ticket | None:
        """The ticket in a stored value; None for a used marker or anything unreadable."""
        if value == USED:
            return None
        try:
            expires_at = json.loads(value)["exp"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
            return None
        return cls(float(expires_at))
