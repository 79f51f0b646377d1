"""Rate limits for the web chat: token buckets in memory, per session and per address.

An address is never kept as such: its bucket is filed under a keyed hash whose key is
random per process, and idle buckets are dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

MAX_BUCKETS = 50_000  # past this, full (idle) buckets are dropped


class Buckets:
    """`allow(key)` is True while `per_minute` requests a minute are not exceeded, with a
    burst of up to a minute's worth."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, then = self.buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.refill)
        allowed = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self.buckets) > MAX_BUCKETS:
            self._prune(now)
        return allowed

    def _prune(self, now: float) -> None:
        full = [k for k, (tokens, then) in self.buckets.items()
                if tokens + (now - then) * self.refill >= self.capacity]
        for key in full:
            del self.buckets[key]


class AddressKeys:
    """A keyed hash of a client address: enough to count its requests, useless to anyone
    who reads the memory later (the key dies with the process)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def __call__(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:24]
