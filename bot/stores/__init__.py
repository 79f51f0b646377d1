"""Session stores, chosen by URL: memory://, sqlite:///path (default), redis://host:port/db
(rediss:// for TLS; `?ssl_ca_certs=/path/ca.pem` names the CA that signed Redis's
certificate). `open_sealed` wraps one in encryption at rest (bot/stores/sealed.py).

A SQLite URL names a file the way an operator reads it: `sqlite:///var/lib/x.sqlite3` is
the absolute path /var/lib/x.sqlite3 (`sqlite:////var/lib/x.sqlite3`, SQLAlchemy's form,
is the same file). A path relative to the working directory must say so:
`sqlite:./x.sqlite3` or `sqlite:../x.sqlite3`. Anything else (`sqlite://x`) is refused,
so an operator command run from another directory never opens another, empty file.
"""

from __future__ import annotations

from bot import keys
from bot.errors import ConfigError
from bot.stores.base import Record, Store
from bot.stores.location import SQLITE_FORMS, sqlite_file
from bot.stores.memory import MemoryStore
from bot.stores.sealed import SealedStore

__all__ = ["MemoryStore", "Record", "SealedStore", "Store", "open_sealed", "open_store",
           "sqlite_file"]


def open_store(url: str) -> Store:
    """The store for a BACKCHECK_STORE URL. Connections are made lazily on first use."""
    if url.startswith("memory://"):
        return MemoryStore()
    try:
        path = sqlite_file(url)
    except ValueError as exc:
        raise ConfigError(f"BACKCHECK_STORE={url!r}: {exc}") from None
    if path is not None:
        from bot.stores.sqlite import SqliteStore

        return SqliteStore(path)
    if url.startswith(("redis://", "rediss://")):
        from bot.stores.redis import RedisStore

        return RedisStore(url)
    raise ConfigError(f"BACKCHECK_STORE={url!r}: expected memory://, {SQLITE_FORMS}"
                      " or redis://host:port/db")


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
