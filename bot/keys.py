"""The secret behind encryption at rest and the keyed pseudonyms of user ids.

BACKCHECK_SECRET_KEY is a comma-separated list of Fernet keys (`backcheck keys new` makes
one): the first encrypts, every one decrypts, so a new key can be put first and the old
ones kept until `backcheck keys rotate` has re-encrypted every record.

From each key an HMAC key is derived (HKDF-SHA256); the first one names records: a store
key or a person becomes HMAC-SHA256(derived key, id), so neither the store nor the logs
ever hold a platform user id, and nobody without the secret can reverse one by trying
every Telegram id. The older keys' pseudonyms are still looked up, so a record written
before a rotation is found (and moved under the new name).

The bots demand the variable; the terminal (`backcheck chat`) and the operator commands
fall back to a key file of their own, made on first use with mode 0600 in the user data
directory, so `make chat` needs no setup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from platformdirs import user_data_dir

from bot.errors import ConfigError

ENV = "BACKCHECK_SECRET_KEY"
MAKE_ONE = "backcheck keys new"
PSEUDONYM_INFO = b"backcheck pseudonym v1"
PSEUDONYM_HEX = 32  # 128 bits of HMAC-SHA256: a record key or person in the store
LOG_HEX = 12  # hex digits of the log id (`log_id`) that log lines carry
LOG_INFO = b"backcheck log id v1"  # derives the log ids' key from the pseudonym key


class Unsealable(ValueError):
    """A sealed value did not decrypt: another key, or changed since it was written."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, URL-safe base64), as `keys new` prints it."""
    return Fernet.generate_key().decode()


def parse_keys(raw: str) -> list[bytes]:
    """The keys of a BACKCHECK_SECRET_KEY value; ValueError (naming no key) if any is not
    a Fernet key or the list is empty."""
    keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
    if not keys:
        raise ValueError("no key")
    for n, key in enumerate(keys, 1):
        try:
            if len(base64.urlsafe_b64decode(key)) != 32:
                raise ValueError
        except (ValueError, binascii.Error):
            raise ValueError(f"key {n} of {len(keys)} is not a Fernet key") from None
    return keys


def _derive(key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PSEUDONYM_INFO)
    return hkdf.derive(base64.urlsafe_b64decode(key))


class Keyring:
    """Seals and opens records, and names ids by keyed pseudonym."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self.count = len(keys)
        self._id_keys = list(dict.fromkeys(_derive(k) for k in keys))

    @classmethod
    def from_text(cls, raw: str) -> Keyring:
        return cls(parse_keys(raw))

    def seal(self, data: dict[str, Any]) -> str:
        """The encrypted, authenticated form of a JSON-able dict, under the first key."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        """The dict a `seal` made with any of the keys; Unsealable otherwise."""
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError, TypeError, RecursionError):
            raise Unsealable("does not decrypt with any configured key") from None
        if not isinstance(data, dict):
            raise Unsealable("not a sealed record")
        return data

    def pseudonym(self, text: str) -> str:
        """The current keyed pseudonym of an id (a store key, a person)."""
        return self.pseudonyms(text)[0]

    def pseudonyms(self, text: str) -> list[str]:
        """The id's pseudonym under every key, the current one first."""
        return [_hmac_hex(k, text)[:PSEUDONYM_HEX] for k in self._id_keys]

    @property
    def id_key(self) -> bytes:
        """The current HMAC key that names ids (derived from the first key)."""
        return self._id_keys[0]


def _hmac_hex(key: bytes, text: str) -> str:
    """HMAC-SHA256 of an id under `key`, in hex: the pseudonym before it is shortened."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


# -- the pseudonym in log lines -------------------------------------------------------------

# Until a keyring is installed (tests that build an App around a bare store), log ids are
# keyed with a random per-process key: unlinkable to a user id, stable within the process.
_log_key: bytes = secrets.token_bytes(32)


def install_log_pseudonyms(keyring: Keyring) -> None:
    """Key `log_id` from the store's pseudonym key (a log line's user can be matched to
    their records by whoever holds the secret, and by nobody else)."""
    global _log_key
    _log_key = keyring.id_key


def log_id(text: str) -> str:
    """The short keyed pseudonym of an id, the only form of a user id allowed in logs. Keyed
    by a key of its own, derived from the pseudonym key: no prefix of the store's `person`
    column, so a log line is matched to a row only by whoever holds the secret."""
    key = hmac.new(_log_key, LOG_INFO, hashlib.sha256).digest()
    return _hmac_hex(key, text)[:LOG_HEX]


# -- where the key comes from ---------------------------------------------------------------


def key_file() -> Path:
    """The terminal's own key, beside its SQLite file in the user data directory."""
    return Path(user_data_dir("backcheck")) / "secret.key"


def load(secret: str) -> Keyring:
    """The keyring from BACKCHECK_SECRET_KEY (`secret`); without it, the key file (made on
    first use). A bot started without the variable was already stopped by
    `Settings.require`."""
    if secret.strip():
        try:
            return Keyring.from_text(secret)
        except ValueError as exc:
            raise ConfigError(f"{ENV}: {exc} (make one with `{MAKE_ONE}`)") from None
    return Keyring.from_text(read_or_create(key_file()))


def read_or_create(path: Path) -> str:
    """The key in `path`, writing a new one (mode 0600, never over another process's) when
    the file does not exist yet."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read(path)
    with os.fdopen(fd, "w") as f:
        f.write(new_key() + "\n")
    return _read(path)


def _read(path: Path) -> str:
    text = path.read_text().strip()
    try:
        parse_keys(text)
    except ValueError:
        raise ConfigError(f"{path}: not a backcheck key file; delete it to make a new one "
                          f"(the data it encrypted cannot be read again), or set {ENV}"
                          ) from None
    return text
