"""Login lockout per account (OWASP, NIST 800-63B): escalating temporary locks, a hard limit.

Every `threshold`-th consecutive failure locks the account: `base` the first time, doubling
with each further run, at most `cap`. At `hard_limit` consecutive failures the account stays
locked until its password is reset, so no account ever sees more than `hard_limit` guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# "Until a password reset": far enough to never expire, still a valid datetime.
UNTIL_RESET = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    base: timedelta = timedelta(minutes=15)
    cap: timedelta = timedelta(hours=24)
    hard_limit: int = 100

    def lock_duration(self, consecutive_failures: int) -> timedelta | None:
        """How long the failure number `consecutive_failures` locks for; None if it does not."""
        if consecutive_failures >= self.hard_limit:
            return UNTIL_RESET - datetime.min.replace(tzinfo=UTC)
        if consecutive_failures <= 0 or consecutive_failures % self.threshold:
            return None
        runs = consecutive_failures // self.threshold
        # Compare exponents, not products: 2**runs grows past any sensible cap quickly.
        if runs - 1 >= (self.cap / self.base).bit_length():
            return self.cap
        return min(self.base * 2 ** (runs - 1), self.cap)

    def locked_until(self, consecutive_failures: int, now: datetime) -> datetime | None:
        if consecutive_failures >= self.hard_limit:
            return UNTIL_RESET
        duration = self.lock_duration(consecutive_failures)
        return None if duration is None else now + duration

    def until_reset(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.hard_limit
