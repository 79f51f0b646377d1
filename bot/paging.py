"""Cutting a long text into pieces a platform accepts (Telegram's 4,096-character messages,
Slack's 3,000-character sections), at the most natural break that fits."""

from __future__ import annotations

from collections.abc import Sequence


def split(text: str, limit: int, breaks: Sequence[str] = ("\n", " ")) -> list[str]:
    """`text` in pieces of at most `limit` characters, each cut at the last of the first
    of `breaks` that fits (e.g. a paragraph, else a line, else a space), else at `limit`:
    never mid-word unless a word is longer. No piece is empty."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = next((at for sep in breaks if (at := window.rfind(sep)) > 0), limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
