"""Encryption at rest and pseudonymous keys, for every store: a wrapper around one.

What the inner store (memory, SQLite, Redis) holds for a record:

    key     HMAC-SHA256 pseudonym of the record's key (bot/keys.py), never a user id
    person  the pseudonym of the person, so `forget` still finds every record
    data    {"s": <Fernet token>}: the namespace, key, person, expiry and data, encrypted
            and authenticated under the first BACKCHECK_SECRET_KEY

The real key inside the token lets `scan` and the operator commands (export, rotate) say
which record is which, and binds the record to its place: a token copied under another
person's key does not open there. A record that does not decrypt (another key, tampered
with) is handled like an unreadable one: `get` deletes it and raises CorruptRecord, and
the log names its pseudonymous id only. Anonymous counters (`incr`, the STATS namespace)
name no person and stay as they are, so Redis can still add to them atomically.

A record written under an older key's pseudonym (before a rotation) is found all the
same and moved under the current one on first read; `rotate` moves all of them at once.

A wrong key finds nobody (the pseudonyms differ), so it would start everyone afresh in
silence. One record tells: the key check, sealed under the current key at a fixed name.
When no configured key opens it, the first use logs an error naming the likely cause
(BACKCHECK_SECRET_KEY changed), `ping` (/healthz) raises WrongKey, and `rotate` refuses
to touch anything. A store from before the key check gets one on first use, unless none
of its records opens: that is a wrong key too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from bot.errors import CorruptRecord, VersionConflict, WrongKey
from bot.keys import Keyring, Unsealable
from bot.stores.base import FOLLOWUP, ONCE, PREFS, SESSION, STATS, TIPS, Record, Store

log = logging.getLogger("backcheck.stores")

PLAIN = frozenset({STATS})  # anonymous counters: no person, no answers
PERSONAL = (SESSION, PREFS, FOLLOWUP)  # the namespaces that hold a person's data
SEALED = (*PERSONAL, ONCE, TIPS)  # every sealed namespace, for `rotate`
KEYCHECK, CANARY = "keycheck", "canary"  # the key check's namespace and (fixed) name
WRONG_KEY = ("BACKCHECK_SECRET_KEY does not open the records in this store: none of its {n} "
             "key(s) sealed them. Was the key changed? Put the key they were sealed with back "
             "in BACKCHECK_SECRET_KEY (after a new one, then run `backcheck keys rotate`).")


class SealedStore:
    """Implements the Store protocol over another store, sealing what it keeps."""

    def __init__(self, inner: Store, keyring: Keyring,
                 clock: Callable[[], float] = time.time) -> None:
        self.inner, self.keyring, self._clock = inner, keyring, clock
        self._checked = False  # the key check has run once (on first use)
        self._warned = False  # a wrong key has been logged

    # -- the Store protocol -------------------------------------------------------------

    async def get(self, ns: str, key: str) -> Record | None:
        if ns in PLAIN:
            return await self.inner.get(ns, key)
        await self._first_use()
        names = self.keyring.pseudonyms(key)
        for i, name in enumerate(names):
            rec = await self.inner.get(ns, name)
            if rec is None:
                continue
            env = await self._open_or_drop(ns, name, rec, key)
            if i == 0:
                return Record(env["d"], rec.version)
            return await self._move(ns, name, rec, env)
        return None

    async def put(self, ns: str, key: str, data: dict[str, Any], *, version: int,
                  ttl: float | None = None, person: str | None = None) -> int:
        if ns in PLAIN:
            return await self.inner.put(ns, key, data, version=version, ttl=ttl, person=person)
        env = {"n": ns, "k": key, "p": person, "d": data,
               "x": None if ttl is None else self._clock() + ttl}
        return await self._write(ns, self.keyring.pseudonym(key), env, version)

    async def delete(self, ns: str, key: str) -> None:
        if ns in PLAIN:
            await self.inner.delete(ns, key)
            return
        for name in self.keyring.pseudonyms(key):
            await self.inner.delete(ns, name)

    async def forget(self, person: str) -> int:
        return sum([await self.inner.forget(p) for p in self.keyring.pseudonyms(person)])

    async def scan(self, ns: str) -> list[tuple[str, Record]]:
        """Every live record, under its real key. One that does not decrypt is logged and
        left to expire, not deleted: a wrong key must never wipe a store."""
        if ns in PLAIN:
            return await self.inner.scan(ns)
        found: dict[str, Record] = {}
        for name, env, rec in await self._scan_open(ns):
            if env["k"] not in found or name == self.keyring.pseudonym(env["k"]):
                found[env["k"]] = Record(env["d"], rec.version)
        return sorted(found.items())

    async def incr(self, ns: str, key: str, amount: int = 1) -> int:
        return await self.inner.incr(ns, key, amount)

    async def compact(self) -> bool:
        return await self.inner.compact()

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers, WrongKey when no configured
        key opens what it holds."""
        await self.inner.ping()
        await self.check_key()

    async def close(self) -> None:
        await self.inner.close()

    # -- operator commands (bot/dsr.py) ---------------------------------------------------

    async def records(self, person: str) -> dict[str, dict[str, Any]]:
        """Everything stored about a person, decrypted: namespace -> key -> data."""
        out: dict[str, dict[str, Any]] = {}
        for ns in PERSONAL:
            for _, env, _rec in await self._scan_open(ns):
                if env.get("p") == person:
                    out.setdefault(ns, {})[env["k"]] = env["d"]
        return out

    async def rotate(self) -> dict[str, int]:
        """Re-encrypt every record under the first key and name it by the first key's
        pseudonym; delete records that were never sealed (written before encryption).
        Returns counts: rotated, unreadable (left alone), plain (deleted). Raises WrongKey,
        having changed nothing, when no configured key opens the store's records. Then
        makes the retired copies leave the store's files (`compact`)."""
        canary = await self.check_key(quiet=True)  # the caller says it: nothing changed
        counts = {"rotated": 0, "unreadable": 0, "plain": 0}
        for ns in SEALED:
            for name, rec in await self.inner.scan(ns):
                if "s" not in rec.data:
                    await self.inner.delete(ns, name)
                    counts["plain"] += 1
                    continue
                try:
                    env = self._open(ns, rec)
                except Unsealable:
                    counts["unreadable"] += 1
                    continue
                if await self._rewrite(ns, name, rec, env):
                    counts["rotated"] += 1
        await self._seal_canary(canary)
        await self.inner.compact()
        return counts

    # -- the key check -------------------------------------------------------------------

    async def check_key(self, *, quiet: bool = False) -> int:
        """Raise WrongKey (logged once, unless `quiet`) unless a configured key opens this
        store's key check; write one, under the first key, when there is none and no record
        says the key is wrong. Returns the key check's version."""
        try:
            rec = await self.inner.get(KEYCHECK, CANARY)
        except CorruptRecord:
            rec = None  # not even JSON: deleted, and made again below
        if rec is None:
            if await self._sealed_by_another_key():
                raise self._wrong_key(quiet)
            return await self._seal_canary(0)
        try:
            self._open(KEYCHECK, rec)
        except Unsealable:
            raise self._wrong_key(quiet) from None
        self._warned = False
        return rec.version

    async def _first_use(self) -> None:
        """Run the key check once, before the first read: a wrong key is logged, and the
        person starts afresh (as a new person would), while /healthz reports it."""
        if self._checked:
            return
        self._checked = True
        with suppress(WrongKey):  # logged; the person starts afresh
            await self.check_key()

    async def _sealed_by_another_key(self) -> bool:
        """Whether the store holds sealed records about people and not one of them opens."""
        found = opened = 0
        for ns in PERSONAL:
            for _, rec in await self.inner.scan(ns):
                if "s" in rec.data:
                    found += 1
                    try:
                        self._open(ns, rec)
                        opened += 1
                    except Unsealable:
                        pass
        return found > 0 and opened == 0

    async def _seal_canary(self, version: int) -> int:
        """Write the key check under the first key (over `version`; 0: a new one)."""
        env: dict[str, Any] = {"n": KEYCHECK, "k": CANARY, "p": None, "d": {}, "x": None}
        try:
            return await self.inner.put(KEYCHECK, CANARY, {"s": self.keyring.seal(env)},
                                        version=version)
        except VersionConflict:  # another process wrote it first: theirs will do
            return version

    def _wrong_key(self, quiet: bool) -> WrongKey:
        message = WRONG_KEY.format(n=self.keyring.count)
        if not (self._warned or quiet):
            self._warned = True
            log.error("sealed store: %s Until then everyone starts their check afresh.",
                      message)
        return WrongKey(message)

    # -- inside ------------------------------------------------------------------------

    def _open(self, ns: str, rec: Record) -> dict[str, Any]:
        token = rec.data.get("s")
        if not isinstance(token, str):
            raise Unsealable("not a sealed record")
        env = self.keyring.open(token)
        if env.get("n") != ns or not isinstance(env.get("k"), str) or "d" not in env:
            raise Unsealable("sealed for another place")
        if not isinstance(env["d"], dict):
            raise Unsealable("not a record")
        return env

    async def _open_or_drop(self, ns: str, name: str, rec: Record, key: str) -> dict[str, Any]:
        """The record's envelope; a record that does not open here is deleted (unless it
        changed meanwhile) and reported as CorruptRecord, by pseudonymous id only."""
        try:
            env = self._open(ns, rec)
            if env["k"] != key:
                raise Unsealable("sealed under another key")
            return env
        except Unsealable:
            pass
        log.warning("sealed store: dropped a %s record that does not decrypt: %s",
                    ns, name[:12])
        try:
            await self.inner.put(ns, name, {}, version=rec.version, ttl=1)
            await self.inner.delete(ns, name)
        except VersionConflict:
            pass  # replaced since it was read: leave the new one be
        raise CorruptRecord(f"a {ns} record did not decrypt and was deleted")

    def _ttl(self, env: dict[str, Any]) -> float | None:
        """What is left of a record's lifetime (None: no expiry); <= 0 when it has expired."""
        expires = env.get("x")
        return None if expires is None else float(expires) - self._clock()

    async def _write(self, ns: str, name: str, env: dict[str, Any], version: int) -> int:
        person = env.get("p")
        ttl = self._ttl(env)
        return await self.inner.put(
            ns, name, {"s": self.keyring.seal(env)}, version=version,
            ttl=None if ttl is None else max(ttl, 0.001),
            person=self.keyring.pseudonym(person) if person else None)

    async def _move(self, ns: str, old: str, rec: Record, env: dict[str, Any]) -> Record | None:
        """A record found under an older key's pseudonym, moved under the current one."""
        await self._rewrite(ns, old, rec, env)
        current = await self.inner.get(ns, self.keyring.pseudonym(env["k"]))
        if current is None:
            return None
        return Record(self._open(ns, current)["d"], current.version)

    async def _rewrite(self, ns: str, name: str, rec: Record, env: dict[str, Any]) -> bool:
        """Seal a record again under the first key and its current name; False when it
        expired or someone else changed it first."""
        ttl = self._ttl(env)
        target = self.keyring.pseudonym(env["k"])
        if ttl is not None and ttl <= 0:
            return False
        try:
            if target == name:
                await self._write(ns, name, env, rec.version)
                return True
            await self._write(ns, target, env, 0)
        except VersionConflict:
            return False
        finally:
            if target != name:
                await self.inner.delete(ns, name)
        return True

    async def _scan_open(self, ns: str) -> list[tuple[str, dict[str, Any], Record]]:
        """(stored name, envelope, record) for every record of `ns` that opens."""
        opened = []
        for name, rec in await self.inner.scan(ns):
            try:
                opened.append((name, self._open(ns, rec), rec))
            except Unsealable:
                log.warning("sealed store: a %s record does not decrypt: %s", ns, name[:12])
        return opened
