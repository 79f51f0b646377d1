"""Session stores, chosen by URL: memory://, sqlite:///path (default), redis://host:port/db
(rediss:// for TLS; `?ssl_ca_certs=/path/ca.pem` names the CA that signed Redis's
certificate). `open_sealed` wraps one in encryption at rest (bot/stores/sealed.py)."""

from __future__ import annotations

from bot import keys
from bot.errors import ConfigError
from bot.stores.base import Record, Store
from bot.stores.memory import MemoryStore
from bot.stores.sealed import SealedStore

__all__ = ["MemoryStore", "Record", "SealedStore", "Store", "open_sealed", "open_store"]


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


def open_sealed(url: str, secret: str) -> SealedStore:
    """The store for a BACKCHECK_STORE URL, encrypting with the BACKCHECK_SECRET_KEY keys
    (`secret`; else the terminal's key file). Log lines name people by the same keyed
    pseudonym from now on. A Redis that refuses the password, or whose certificate does
    not verify, is a ConfigError here, at start-up."""
    keyring = keys.load(secret)
    keys.install_log_pseudonyms(keyring)
    store = open_store(url)
    if url.startswith(("redis://", "rediss://")):
        from bot.stores.redis import check_login

        check_login(url)
    return SealedStore(store, keyring)
