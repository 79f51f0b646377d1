"""Cutting a long text into pieces a platform accepts (Telegram's 4,096 UTF-16 code units a
message, Slack's 3,000-character sections), at the most natural break that fits.

Each platform counts length in its own unit, so the unit is a parameter: `len` counts
Python characters (code points, what Slack counts); `utf16_units` counts what Telegram
counts, where 🚑 and every other character outside the Basic Multilingual Plane is two.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

Measure = Callable[[str], int]


def utf16_units(text: str) -> int:
    """The length of `text` in UTF-16 code units (Telegram's unit for every text limit)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def fitting(text: str, limit: int, size: Measure = len) -> int:
    """The length (in characters) of the longest prefix of `text` whose size is at most
    `limit`; it never ends between the halves of a character, as Python counts them."""
    return bisect_right(range(len(text) + 1), limit, key=lambda n: size(text[:n])) - 1


def truncate(text: str, limit: int, size: Measure = len) -> str:
    """`text` cut to at most `limit` units of `size` (for texts that are shortened, not
    split: an edited message, a callback answer)."""
    return text if size(text) <= limit else text[: fitting(text, limit, size)]


def split(text: str, limit: int, breaks: Sequence[str] = ("\n", " "),
          size: Measure = len) -> list[str]:
    """`text` in pieces of at most `limit` units of `size` (characters by default), each
    cut at the last of the first of `breaks` that fits (e.g. a paragraph, else a line,
    else a space), else at the limit: never mid-word unless a word is longer. No piece
    is empty."""
    pieces: list[str] = []
    rest = text.strip()
    while size(rest) > limit:
        most = max(1, fitting(rest, limit, size))
        window = rest[: most + 1]
        cut = next((at for sep in breaks if 0 < (at := window.rfind(sep)) <= most), most)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
