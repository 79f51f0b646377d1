"""What the SQLite and Redis stores share: the JSON form of a record and how a bad one is reported.

Stored records are health data, so a record that cannot be read is never logged: only
its namespace and a short hash of its key, enough to correlate with other log lines.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.errors import CorruptRecord
from bot.keys import log_id

log = logging.getLogger("backcheck.stores")


def encode(data: dict[str, Any]) -> str:
    """Compact JSON text for a record's data (non-ASCII kept as is: smaller, still valid)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode(raw: object) -> dict[str, Any] | None:
    """The record's data, or None when the stored value is not the JSON text of an object."""
    if not isinstance(raw, str | bytes):
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def key_hash(key: str) -> str:
    """A short keyed pseudonym of a store key, the only form allowed in logs (behind the
    sealed store the key is a pseudonym already)."""
    return log_id(key)


def dropped(backend: str, ns: str, key: str) -> CorruptRecord:
    """Log that an unreadable record was deleted (never its content); return the error that
    `get` raises for it (`scan` and `incr` only log, and treat the record as expired)."""
    log.warning("%s store: dropped unreadable %s record %s", backend, ns, key_hash(key))
    return CorruptRecord(f"an unreadable {ns} record was deleted")
