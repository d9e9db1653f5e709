"""Card challenges: a 256-bit nonce that proves by itself that this service issued it, and
until when it is good for.

A nonce is `expires_at (4 bytes, epoch seconds, big-endian) ‖ random (16) ‖ tag (12)`, the
tag being HMAC-SHA256 under a challenge key, truncated. Any gateway replica holding the key
checks a nonce without a round trip; single use is one KV `create` of the nonce's hash when
it is consumed (see adapters/nonces.py). Issuing stores nothing.

Why not 32 random bytes stored as a ticket: that costs a KV write per challenge and a read plus
a compare-and-set per card read. Here nobody without the key can produce or predict a nonce
the gateway accepts: guessing the random part is 2^-128 a try, forging a tag 2^-96 a try, and
each try is an HTTP request. The card's APDU takes exactly 32 bytes, so the random part is
the 128 bits the reset tokens have too, and the nonce as a whole is still 256 bits.

The store key is a SHA-256 of the raw nonce so that the nonce itself never appears in a
subject.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

NONCE_BYTES = 32
RANDOM_BYTES = 16
TAG_BYTES = 12
KEY_BYTES = 32
# DESIGN: a nonce lives at most 120 s.
MAX_TTL_SECONDS = 120
# How far apart the replicas' clocks may be: a nonce another replica issued may expire up to
# this much later than this replica's own would.
CLOCK_SKEW_SECONDS = 10
# A used marker must outlive every nonce it stands for.
MARKER_TTL_SECONDS = MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS
USED = b"used"
_LABEL = b"cardreg/challenge/v1\x00"
_EXPIRY = slice(0, 4)
_SIGNED = slice(0, 4 + RANDOM_BYTES)
_TAG = slice(4 + RANDOM_BYTES, NONCE_BYTES)


def nonce_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@dataclass(frozen=True)
class ChallengeKeys:
    """The keys nonces are tagged with: the first tags new ones, every one is accepted (the
    others are the keys before a rotation, kept while nonces they tagged may still be live)."""

    keys: Sequence[bytes]

    def __post_init__(self) -> None:
        if not self.keys or any(len(key) != KEY_BYTES for key in self.keys):
            raise ValueError(f"challenge keys are {KEY_BYTES} bytes each, at least one")

    def issue(self, now: float, ttl_seconds: int) -> bytes:
        """A fresh nonce, good until `now + ttl_seconds` rounded down to the second (so never
        longer than the `expires_in` the caller is told)."""
        if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"a nonce lives 1 to {MAX_TTL_SECONDS} seconds")
        signed = int(now + ttl_seconds).to_bytes(4, "big") + secrets.token_bytes(RANDOM_BYTES)
        return signed + _tag(self.keys[0], signed)

    def accepts(self, raw: bytes, now: float) -> bool:
        """Issued under one of these keys and live at `now`. An expiry further ahead than any
        replica would set is refused too: only a forger, or a badly wrong clock, makes one."""
        if len(raw) != NONCE_BYTES:
            return False
        expires_at = int.from_bytes(raw[_EXPIRY], "big")
        if not now < expires_at <= now + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS:
            return False
        signed, tag = raw[_SIGNED], raw[_TAG]
        # Every key is tried, whichever matches: the time taken does not say which one did.
        matches = [hmac.compare_digest(_tag(key, signed), tag) for key in self.keys]
        return any(matches)


def _tag(key: bytes, signed: bytes) -> bytes:
    return hmac.digest(key, _LABEL + signed, "sha256")[:TAG_BYTES]
