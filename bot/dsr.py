"""Operator commands for data-subject requests and keys.

    backcheck forget --user telegram:123456789    delete everything about a person
    backcheck export --user slack:T0123:U0456     print it, decrypted, as JSON
    backcheck keys new                            print a fresh BACKCHECK_SECRET_KEY
    backcheck keys rotate                         re-encrypt every record under the first key

A `--user` names a person the way their platform shows them (`<platform>:<id>`); each
platform's description (`Platform.person_of`) turns it into the person key its adapter
builds (`SessionKey.person()`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot import keys, platforms
from bot.config import Settings, store_place
from bot.errors import ConfigError
from bot.stores import SealedStore, open_sealed
from bot.types import SessionKey

USER_FORMS = "<platform>:<id>, as " + ", ".join(p.person_example for p in platforms.PLATFORMS
                                               if p.person_of)


def person_of(spec: str, settings: Settings) -> str:
    """The person key (as `SessionKey.person()` builds it) of a `--user` value."""
    name, _, rest = spec.strip().partition(":")
    platform = platforms.get(name)
    parts = rest.split(":") if rest else []
    person = platform.person_of(parts, settings) if platform and platform.person_of else None
    if person is None:
        raise ConfigError(f"--user {spec!r}: expected {USER_FORMS}")
    return person


class _Unset:
    """Settings with nothing set: a `--user` form that needs none (the bot's own id)."""

    def get(self, field: str) -> str:
        return ""


def user_spec(key: SessionKey) -> str:
    """The `--user` value that names this person for forget and export, as `whoami`
    shows it: the shortest form their platform takes that means exactly them."""
    platform = platforms.get(key.platform)
    for parts in ([key.user], [key.workspace, key.user]):
        if platform and platform.person_of and (
                platform.person_of(parts, _Unset()) == key.person()):
            return ":".join([key.platform, *parts])
    return key.person()


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[SealedStore]:
    """The configured store, closed when done (its close() is no aclose()). WrongKey when
    BACKCHECK_SECRET_KEY does not open it: a forget or export would find nobody."""
    store = open_sealed(settings.store, settings.secret_key)
    try:
        await store.check_key(quiet=True)
        yield store
    finally:
        await store.close()


async def forget(settings: Settings, person: str) -> int:
    """Delete every record about the person; how many there were."""
    async with _opened(settings) as store:
        return await store.forget(person)


async def export(settings: Settings, person: str) -> dict[str, dict[str, Any]]:
    """Everything stored about the person, decrypted: namespace -> key -> data."""
    async with _opened(settings) as store:
        return await store.records(person)


async def rotate(settings: Settings) -> dict[str, int]:
    """Re-encrypt (and rename) every record under the first key."""
    async with _opened(settings) as store:
        return await store.rotate()


def _forget(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    n = asyncio.run(forget(settings, person_of(args.user, settings)))
    place = store_place(settings.store)
    if n:
        print(f"forgot {args.user}: {n} records deleted from {place}")
    else:
        print(f"nothing stored about {args.user} in {place}: no records deleted "
              "(is BACKCHECK_STORE the store the bots use?)")
    return 0


def _export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    records = asyncio.run(export(settings, person_of(args.user, settings)))
    print(json.dumps({"user": args.user, "store": store_place(settings.store),
                      "records": records}, ensure_ascii=False, indent=2))
    return 0


def _keys_new(args: argparse.Namespace) -> int:
    print(keys.new_key())
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    counts = asyncio.run(rotate(Settings.from_env()))
    print(f"re-encrypted {counts['rotated']} records under the first key; "
          f"{counts['plain']} unencrypted records from before deleted; "
          f"{counts['unreadable']} that no configured key opens left alone")
    return 0


def register(sub: Any) -> None:
    """Add `backcheck forget`, `export` and `keys`."""
    for name, handler, what in (
            ("forget", _forget, "delete everything stored about a person"),
            ("export", _export, "print everything stored about a person, decrypted, as JSON")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--user", required=True, metavar="PLATFORM:ID", help=USER_FORMS)
        p.set_defaults(handler=handler)
    p = sub.add_parser("keys", help="encryption keys: make one, or rotate to a new one")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    ksub.add_parser("new", help="print a fresh key for BACKCHECK_SECRET_KEY"
                    ).set_defaults(handler=_keys_new)
    ksub.add_parser("rotate", help="re-encrypt every record under the first key of "
                    "BACKCHECK_SECRET_KEY").set_defaults(handler=_keys_rotate)
