"""A web API request -> `Incoming`. Pure: no I/O, no App, no words (errors are codes
that the server words from the locales).

The page posts one JSON object per turn:

    {"answer": "<option id>", "token": "<the question's token>"}   a button
    {"command": "back" | "language sv" | ..., "token": "..."}       a menu button
    {"text": "what the person typed"}                               the text box

plus, optionally, "lang": the language the page is showing (for wording an error).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot import commands
from bot.adapters.web import NAME, SESSION_ID, session_key
from bot.types import Incoming, SessionKey

__all__ = ["NAME", "Rejected", "client_lang", "decode", "lang_hint", "parse_turn",
           "session_key", "turn_of", "valid_session"]

OPTION_ID = re.compile(r"[a-z0-9_]{1,64}")
TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
LANG = re.compile(r"[a-z]{2}")
# What the page's buttons may ask for: every command a person may give, by its own name,
# except the admins'. Follow-ups are buttons only (and a web page cannot be written to a
# week later).
COMMANDS = tuple(s.name for s in commands.REGISTRY if s.person and not s.admin)


@dataclass(frozen=True)
class Rejected:
    """Why a request cannot become a turn: a code, worded by `web.errors.<code>`."""

    code: str  # bad_json | bad_request | forged | unknown_session


def valid_session(session_id: str | None) -> bool:
    """True for an id of the shape the server issues; whether it did issue it is
    `transport.SessionIds.issued`."""
    return bool(session_id) and SESSION_ID.fullmatch(session_id or "") is not None


def lang_hint(explicit: str | None, accept_language: str | None,
              langs: tuple[str, ...]) -> str | None:
    """The language to start in: the page's (?lang= or the widget's data-lang) if known,
    else the first of the browser's Accept-Language that we speak, by preference."""
    if explicit and explicit.lower()[:2] in langs:
        return explicit.lower()[:2]
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        code = tag.strip().lower().replace("_", "-").split("-")[0]
        if code in langs and q > 0:
            ranked.append((-q, index, code))
    return min(ranked)[2] if ranked else None


def decode(body: bytes) -> dict[str, Any] | None:
    """A request body's JSON object; None for a body that is not one (not even JSON)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return None
    return data if isinstance(data, dict) else None


def client_lang(data: dict[str, Any] | None) -> str | None:
    """The "lang" the page says it shows, from a `decode`d body (None: not a JSON object)."""
    lang = data.get("lang") if data is not None else None
    return lang if isinstance(lang, str) and LANG.fullmatch(lang) else None


def parse_turn(body: bytes, key: SessionKey, hint: str | None) -> Incoming | Rejected:
    """One turn from a request body, or why not."""
    return turn_of(decode(body), key, hint)


def turn_of(data: dict[str, Any] | None, key: SessionKey,
            hint: str | None) -> Incoming | Rejected:
    """One turn from a `decode`d request body, or why not."""
    if data is None:
        return Rejected("bad_json")
    token = data.get("token")
    if token is not None and not (isinstance(token, str) and TOKEN.fullmatch(token)):
        return Rejected("forged")
    if "answer" in data:
        answer = data["answer"]
        if not isinstance(answer, str) or not OPTION_ID.fullmatch(answer):
            return Rejected("forged")
        return Incoming(key, "answer", answer, token, hint)
    if "command" in data:
        return _command(data["command"], key, token, hint)
    if "text" in data:
        text = data["text"]
        if not isinstance(text, str):
            return Rejected("bad_request")
        # the token of the question the page shows, if any: the text answers that one only
        return Incoming(key, "text", text, token, hint)  # App cuts it to bot.app.MAX_TEXT
    return Rejected("bad_request")


def _command(value: object, key: SessionKey, token: str | None,
             hint: str | None) -> Incoming | Rejected:
    if not isinstance(value, str):
        return Rejected("forged")
    name, _, arg = value.strip().partition(" ")
    if name not in COMMANDS or (arg and not (name == "language" and LANG.fullmatch(arg))):
        return Rejected("forged")
    if name == "start":
        return Incoming(key, "start", lang_hint=hint)
    return Incoming(key, "command", value.strip(), token, hint)
