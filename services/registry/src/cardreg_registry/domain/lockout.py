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

    def locked_until(self, consecutive_failures: int, now: datetime) -> datetime | None:
        """When the lock set by failure number `consecutive_failures` ends; None: no lock."""
        if consecutive_failures >= self.hard_limit:
            return UNTIL_RESET
        if consecutive_failures <= 0 or consecutive_failures % self.threshold:
            return None
        return now + self._duration(consecutive_failures // self.threshold)

    def needs_reset(self, consecutive_failures: int) -> bool:
        """Only a password reset lifts the lock."""
        return consecutive_failures >= self.hard_limit

    def _duration(self, run: int) -> timedelta:
        duration = self.base
        for _ in range(run - 1):
            if duration >= self.cap:
                break
            duration *= 2
        return min(duration, self.cap)
