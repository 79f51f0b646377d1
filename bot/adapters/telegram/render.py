"""Replies -> Telegram messages: text cut to Telegram's limits and inline keyboards whose
`callback_data` stays within 64 bytes. Pure functions, no I/O, no prose.

Telegram counts every text limit in UTF-16 code units (`paging.utf16_units`): 🚑, 🚨, 📅
and 🏠 are two each, so a text of 4,096 Python characters can be too long.

callback_data is `a|<token>|<option id>` for an answer and `c|<token>|<command>` for a
command. The token is the engine's stale-button token, so a button from an earlier turn
or a finished check is recognised by the engine; anything that does not parse is garbled
or forged and is treated as stale by the adapter.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import CallbackQueryLimit, InlineKeyboardButtonLimit, MessageLimit

from bot import paging
from bot.types import Button, IncomingKind, Reply

log = logging.getLogger("backcheck.telegram")

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096 UTF-16 code units
MAX_TOAST = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)  # 200 UTF-16 code units
MAX_DATA = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64 bytes
PREFIX: dict[str, IncomingKind] = {"a": "answer", "c": "command"}
_DATA = re.compile(
    r"(?P<kind>[ac])\|(?P<token>[A-Za-z0-9_.-]{0,32})\|(?P<value>[A-Za-z0-9_ -]{1,48})")
ONE_ROW_CHARS = 30  # buttons whose labels fit in this many characters share one row


@dataclass(frozen=True)
class Press:
    """A button press decoded from callback_data."""

    kind: IncomingKind
    token: str | None
    value: str


def callback_data(button: Button, token: str | None) -> str:
    """The compact callback_data for a button."""
    prefix = "a" if button.kind == "answer" else "c"
    return f"{prefix}|{token or ''}|{button.value}"


def parse_callback(data: str | None) -> Press | None:
    """The press a callback_data stands for, or None when it is garbled or forged."""
    match = _DATA.fullmatch(data or "")
    if match is None:
        return None
    return Press(PREFIX[match["kind"]], match["token"] or None, match["value"])


def keyboard(buttons: tuple[Button, ...], token: str | None) -> InlineKeyboardMarkup | None:
    """An inline keyboard for a reply's buttons: short answers side by side, else one a row."""
    keys: list[InlineKeyboardButton] = []
    for button in buttons:
        data = callback_data(button, token)
        if len(data.encode()) > MAX_DATA:
            log.error("button %r dropped: callback_data over %d bytes", button.value, MAX_DATA)
            continue
        keys.append(InlineKeyboardButton(button.label, callback_data=data))
    if not keys:
        return None
    if len(keys) <= 3 and sum(len(k.text) for k in keys) <= ONE_ROW_CHARS:
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[k] for k in keys])


def private_link(username: str) -> str:
    """The deep link that opens a private chat with the bot and starts a check."""
    return f"https://t.me/{username}?start=check"


def link_keyboard(label: str, url: str) -> InlineKeyboardMarkup:
    """One URL button, e.g. the deep link that opens a private chat with the bot."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


def units(text: str) -> int:
    """The length of a text as Telegram counts it (UTF-16 code units)."""
    return paging.utf16_units(text)


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text in pieces of at most `limit` UTF-16 code units, cut at line breaks where
    possible, else at a space, else anywhere. Never returns an empty piece."""
    return paging.split(text, limit, ("\n", " "), size=units)


def shortened(text: str, limit: int = MAX_TEXT) -> str:
    """Text cut to at most `limit` UTF-16 code units (an edited message, a toast)."""
    return paging.truncate(text, limit, units)


def messages(reply: Reply, username: str = "") -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The Telegram messages for one reply; the buttons go under the last one.
    An outcome is sent as few messages as possible, split between its sections. A
    redirect (a group asked) gets a button that opens the private chat with the bot
    `username` and starts the check there."""
    if reply.kind == "redirect":
        label = reply.buttons[0].label if reply.buttons else ""
        link = link_keyboard(label, private_link(username)) if label and username else None
        return [(reply.text, link)]
    if reply.kind == "outcome" and reply.sections:
        texts = _pack(reply.sections)
    else:
        texts = chunks(reply.text)
    markup = keyboard(reply.buttons, reply.token)
    out: list[tuple[str, InlineKeyboardMarkup | None]] = [(t, None) for t in texts]
    if out:
        out[-1] = (out[-1][0], markup)
    return out


def _pack(sections: tuple[str, ...], limit: int = MAX_TEXT) -> list[str]:
    """Join sections into messages of at most `limit` UTF-16 code units, breaking only
    between sections (and inside a section only when it alone is too long)."""
    packed: list[str] = []
    for section in sections:
        for piece in chunks(section, limit):
            if packed and units(packed[-1]) + 2 + units(piece) <= limit:
                packed[-1] += "\n\n" + piece
            else:
                packed.append(piece)
    return packed
