"""Environment variables as data: one `Var` per variable, and the small parsers that check
a value's form.

Shared by `bot.config` (backcheck's own settings) and by each platform's `Platform`
description (its tokens and URLs), so a platform declares its variables without
importing the settings module that reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

NO_SPACE = re.compile(r"\S+")


class Bad(ValueError):
    """A value does not fit; the caller names the variable and what is expected."""


@dataclass(frozen=True)
class Var:
    """One environment variable: the Settings field it fills and how it is checked."""

    name: str
    field: str
    expected: str  # what a right value looks like, for the one-line error
    parse: Callable[[str], object] = str
    secret: bool = False
    default: object = ""


def seconds(raw: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(raw)
    except ValueError:
        raise Bad from None
    if not 0 < value < float("inf"):
        raise Bad
    return value


def one_of(allowed: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    """A parser accepting only these values (upper-cased first when `upper`)."""

    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw
        if value not in allowed:
            raise Bad
        return value

    return parse


def matching(pattern: re.Pattern[str], prefix: str = "") -> Callable[[str], str]:
    """A parser accepting `prefix` followed by text that fully matches `pattern`."""

    def parse(raw: str) -> str:
        if not raw.startswith(prefix) or not pattern.fullmatch(raw.removeprefix(prefix)):
            raise Bad
        return raw

    return parse


def http_url(raw: str) -> str:
    """An http(s) URL with a host."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Bad
    return raw
