"""How failed household / residence verifications lock a person (anti-guessing).

Failures are counted per person while they are consecutive. Every `limit`-th failure locks
the person: the first time for `base_seconds`, twice as long for each further run of `limit`,
never longer than `max_seconds`. While locked, nothing is checked or counted. A success
resets the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuessPolicy:
    limit: int = 5
    base_seconds: int = 15 * 60
    max_seconds: int = 24 * 60 * 60

    def lock_seconds(self, failures: int) -> int:
        """How long the `failures`-th consecutive failure locks the person (0: not at all)."""
        if failures <= 0 or failures % self.limit:
            return 0
        doublings = min(failures // self.limit - 1, 32)  # bounded: the cap is reached long before
        return min(self.base_seconds << doublings, self.max_seconds)


def is_locked(locked_until: float | None, now: float) -> bool:
    return locked_until is not None and locked_until > now


def retry_after(locked_until: float, now: float) -> int:
    """Whole seconds until the lock ends, at least one."""
    return max(1, math.ceil(locked_until - now))
