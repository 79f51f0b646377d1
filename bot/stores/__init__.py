"""Session stores, chosen by URL: memory://, sqlite:///path (default), redis://host:port/db."""

from __future__ import annotations

from bot.errors import ConfigError
from bot.stores.base import Record, Store
from bot.stores.memory import MemoryStore

__all__ = ["MemoryStore", "Record", "Store", "open_store"]


def open_store(url: str) -> Store:
    """The store for a BACKCHECK_STORE URL. Connections are made lazily on first use."""
    if url.startswith("memory://"):
        return MemoryStore()
    if url.startswith("sqlite:///"):
        from bot.stores.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://")):
        from bot.stores.redis import RedisStore

        return RedisStore(url)
    raise ConfigError(f"BACKCHECK_STORE={url!r}: expected memory://, sqlite:///path or redis://host:port/db")
