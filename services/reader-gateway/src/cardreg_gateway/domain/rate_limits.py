"""Token buckets: at most `rate` requests a second per key, bursts up to `burst`.

The token endpoint's limit (DESIGN "Relying services"): each key is one caller, the peer
address with the client id it names, so a flood from one place neither reaches the registry's
argon-free but synchronous protocol work nor uses up another caller's allowance. In memory,
per gateway replica: a bound on load, not an accounting.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float], *, max_keys: int = 10_000
    ) -> None:
        self.rate, self.burst, self._clock, self._max_keys = rate, burst, clock, max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float | None:
        """None when the request may go; otherwise the seconds until it may."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[key] = bucket  # the most recently used last
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)  # the longest idle one: it would be full again
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate
