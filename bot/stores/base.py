"""The seam between backcheck and where it keeps things: one small Protocol.

Records are JSON-able dicts kept under (namespace, key). Every record that is about a
person names that person, so `forget` can delete all of it in one call. Writes are
compare-and-set on a version number: version 0 means "must not exist yet", and a
write against a version that has moved on raises VersionConflict, so two updates for
one conversation never both apply, in one process or across replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Namespaces used by backcheck. A store treats them as opaque strings.
SESSION = "session"
PREFS = "prefs"
FOLLOWUP = "followup"
ONCE = "once"
STATS = "stats"
TIPS = "tips"  # the tip rotation and each slot's chosen tip (bot/wellness/tips.py)


@dataclass(frozen=True)
class Record:
    """A stored value and the version it was read at."""

    data: dict[str, Any]
    version: int


class Store(Protocol):
    """Where sessions, preferences, follow-ups and counters live."""

    async def get(self, ns: str, key: str) -> Record | None:
        """The record, or None when absent or expired. Raises CorruptRecord (after
        deleting it) when the stored bytes cannot be read, StoreUnavailable when down."""
        ...

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
        """Write if the stored version equals `version` (0: absent); return the new
        version. Raises VersionConflict otherwise. `ttl` seconds until it expires;
        `person` lets `forget` find it."""
        ...

    async def delete(self, ns: str, key: str) -> None:
        """Remove one record; absent is fine."""
        ...

    async def forget(self, person: str) -> int:
        """Delete every record that names this person, in every namespace, also from the
        store's files (see `compact`); return how many."""
        ...

    async def scan(self, ns: str) -> list[tuple[str, Record]]:
        """Every live record in a namespace (for follow-ups and totals, never hot paths)."""
        ...

    async def incr(self, ns: str, key: str, amount: int = 1) -> int:
        """Add to a counter that names no person; return the new value."""
        ...

    async def compact(self) -> bool:
        """Make deleted records unrecoverable from the store's files (SQLite's write-ahead
        log, Redis's append-only file), as `forget` does by itself; `keys rotate` calls it
        so that no copy under the retired key stays on disk. False (and a logged warning)
        when the store could not do it now."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...
