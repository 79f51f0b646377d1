"""A small in-process cache whose entries expire: for look-ups an adapter repeats on every
update (a person's platform locale, their DM channel) and for recently seen event ids."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Entries expire `ttl` seconds after they are put; at `maxsize` the oldest is dropped."""

    def __init__(self, ttl: float, maxsize: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.maxsize, self._clock = ttl, maxsize, clock
        self._items: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        """The value, or None when absent or expired."""
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: str, value: V) -> None:
        """Store `value` under `key` for `ttl` seconds."""
        self._items.pop(key, None)
        if len(self._items) >= self.maxsize:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (self._clock() + self.ttl, value)
