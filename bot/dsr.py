"""Operator commands for data-subject requests and keys.

    backcheck forget --user telegram:123456789    delete everything about a person
    backcheck export --user slack:T0123:U0456     print it, decrypted, as JSON
    backcheck keys new                            print a fresh BACKCHECK_SECRET_KEY
    backcheck keys rotate                         re-encrypt every record under the first key

A `--user` names a person the way the platform shows them; it becomes the person key
the adapters build (`SessionKey.person()`): Telegram's includes the bot's id, which is
the first part of TELEGRAM_BOT_TOKEN, so `telegram:<user id>` is enough when the token
is set (`telegram:<bot id>:<user id>` otherwise); Slack's is `slack:<team>:<user>`; the
terminal's is `console:<login name>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot import keys
from bot.config import Settings
from bot.errors import ConfigError
from bot.stores import SealedStore, open_sealed

USER_FORMS = "telegram:<user id>, telegram:<bot id>:<user id>, slack:<team id>:<user id> " \
             "or console:<login name>"


def person_of(spec: str, settings: Settings) -> str:
    """The person key (as `SessionKey.person()` builds it) of a `--user` value."""
    platform, _, rest = spec.strip().partition(":")
    parts = rest.split(":") if rest else []
    if platform == "telegram" and len(parts) == 1 and parts[0].isdigit():
        bot_id = settings.telegram_bot_token.partition(":")[0]
        if not bot_id:
            raise ConfigError(f"--user {spec}: the bot's id is needed too; set "
                              "TELEGRAM_BOT_TOKEN or give telegram:<bot id>:<user id>")
        return f"telegram:{bot_id}:{parts[0]}"
    if platform == "telegram" and len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"telegram:{parts[0]}:{parts[1]}"
    if platform == "slack" and len(parts) == 2 and all(parts):
        return f"slack:{parts[0]}:{parts[1]}"
    if platform == "console" and len(parts) == 1 and parts[0]:
        login = parts[0]
        return f"console:local:{login if login.startswith('user-') else 'user-' + login}"
    raise ConfigError(f"--user {spec!r}: expected {USER_FORMS}")


def _open(settings: Settings) -> SealedStore:
    return open_sealed(settings.store, settings.secret_key)


async def forget(settings: Settings, person: str) -> int:
    """Delete every record about the person; how many there were."""
    store = _open(settings)
    try:
        return await store.forget(person)
    finally:
        await store.close()


async def export(settings: Settings, person: str) -> dict[str, dict[str, Any]]:
    """Everything stored about the person, decrypted: namespace -> key -> data."""
    store = _open(settings)
    try:
        return await store.records(person)
    finally:
        await store.close()


async def rotate(settings: Settings) -> dict[str, int]:
    """Re-encrypt (and rename) every record under the first key."""
    store = _open(settings)
    try:
        return await store.rotate()
    finally:
        await store.close()


def _forget(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    n = asyncio.run(forget(settings, person_of(args.user, settings)))
    print(f"forgot {args.user}: {n} records deleted")
    return 0


def _export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    records = asyncio.run(export(settings, person_of(args.user, settings)))
    print(json.dumps({"user": args.user, "records": records}, ensure_ascii=False, indent=2))
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
