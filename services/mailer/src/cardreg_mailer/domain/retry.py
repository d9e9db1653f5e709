"""When to try a mail again, and when to give up on it."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base, 2 x base, 4 x base ... capped; `max_attempts` deliveries in all."""

    base_seconds: float
    cap_seconds: float
    max_attempts: int

    def exhausted(self, attempts: int) -> bool:
        """True once the `attempts`-th delivery has failed and no further one is allowed."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds before the next delivery, after `attempts` failed ones (1-based).

        Half the step is fixed, half random ("equal jitter"): retries spread out when the SMTP
        server comes back, yet never come sooner than half the schedule.
        """
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return step / 2 + (rng or random).uniform(0, step / 2)
