"""An in-process store for tests and one-off runs: fast, and gone when the process ends."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from bot.errors import VersionConflict
from bot.stores.base import Record


class MemoryStore:
    """Implements the Store protocol with dicts; expiry is checked on read."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rows: dict[tuple[str, str], tuple[dict[str, Any], int, float | None, str | None]] = {}
        self._lock = asyncio.Lock()

    def _live(
        self, ns: str, key: str
    ) -> tuple[dict[str, Any], int, float | None, str | None] | None:
        row = self._rows.get((ns, key))
        if row is not None and row[2] is not None and row[2] <= self._clock():
            del self._rows[(ns, key)]
            return None
        return row

    async def get(self, ns: str, key: str) -> Record | None:
        row = self._live(ns, key)
        return None if row is None else Record(copy.deepcopy(row[0]), row[1])

    async def put(
        self,
        ns: str,
        key: str,
        data: dict[str, Any],
        *,
        version: int,
        ttl: float | None = None,
        person: str | None = None,
    ) -> int:
        async with self._lock:
            row = self._live(ns, key)
            current = 0 if row is None else row[1]
            if current != version:
                raise VersionConflict(f"{ns} record changed (expected {version}, found {current})")
            expires = None if ttl is None else self._clock() + ttl
            self._rows[(ns, key)] = (copy.deepcopy(data), current + 1, expires, person)
            return current + 1

    async def delete(self, ns: str, key: str) -> None:
        self._rows.pop((ns, key), None)

    async def forget(self, person: str) -> int:
        doomed = [k for k, row in self._rows.items() if row[3] == person]
        for k in doomed:
            del self._rows[k]
        return len(doomed)

    async def scan(self, ns: str) -> list[tuple[str, Record]]:
        keys = [k for (n, k) in list(self._rows) if n == ns]
        found = [(k, self._live(ns, k)) for k in keys]
        return [(k, Record(copy.deepcopy(r[0]), r[1])) for k, r in found if r is not None]

    async def incr(self, ns: str, key: str, amount: int = 1) -> int:
        row = self._live(ns, key)
        value = (0 if row is None else int(row[0].get("n", 0))) + amount
        self._rows[(ns, key)] = ({"n": value}, (0 if row is None else row[1]) + 1, None, None)
        return value

    async def compact(self) -> bool:
        return True  # nothing on disk

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
