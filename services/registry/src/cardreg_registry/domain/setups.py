"""Setup codes: how a person finishes a registration opened at a counter or by an employer.

100 random bits (≥ 80, DESIGN), written as 20 base32 letters and digits in groups of four, so a
clerk can print it on a slip and a person type it; kept only as a SHA-256 hash, single use,
7 days. A new setup voids the older ones. The code alone opens nothing: it must come with the
person's own card (flows/setup_complete.py).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CODE_BYTES = 13  # 104 bits drawn, 100 kept in 20 base32 characters
CODE_LENGTH = 20
SETUP_TTL = timedelta(days=7)


def new_setup_code() -> str:
    letters = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")[:CODE_LENGTH]
    return "-".join(letters[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def canonical_code(code: str) -> str:
    """As typed or from a link: case, spaces and dashes do not matter."""
    return "".join(c for c in code.upper() if c.isalnum())


def hash_setup_code(code: str) -> str:
    return hashlib.sha256(canonical_code(code).encode("ascii", "replace")).hexdigest()


def setup_url(public_base_url: str, code: str) -> str:
    """`{base}/setup?code=...` from configuration, never from a request."""
    return f"{public_base_url.rstrip('/')}/setup?code={canonical_code(code)}"


@dataclass(frozen=True)
class Setup:
    code_hash: str = field(repr=False)
    account_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    voided_at: datetime | None = None

    @classmethod
    def issue(cls, account_id: str, now: datetime, ttl: timedelta = SETUP_TTL) -> tuple[Setup, str]:
        """A new setup and its code (shown once, never stored)."""
        code = new_setup_code()
        return cls(hash_setup_code(code), account_id, now, now + ttl), code

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and self.expires_at > now
