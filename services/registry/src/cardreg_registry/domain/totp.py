"""The operators' second factor: time-based one-time passwords (RFC 6238) through pyotp.

SHA-1, 6 digits, 30-second steps: what every authenticator app reads from an `otpauth://`
URI. A code is accepted for the step before, the current one and the one after (a clock a
little off, a code typed as it turned over), and only for a step later than the last one the
operator used: each code logs in once, and an older code seen over a shoulder is useless too.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "cardreg"
SECRET_LENGTH = 32  # base32 characters: 160 bits, RFC 4226's recommendation
WINDOW = 1  # steps either side of the current one


def new_secret() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def enrolment_uri(secret: str, username: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app takes (as a QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, moment: datetime) -> str:
    """The code for `moment` (what the operator's app shows then)."""
    return pyotp.TOTP(secret).at(moment)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to, if it is within the window and later than
    `last_step`; None otherwise. Every candidate is compared, in constant time."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        fresh = last_step is None or step > last_step
        if hmac.compare_digest(totp.generate_otp(step), code) and fresh and found is None:
            found = step
    return found
