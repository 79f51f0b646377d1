"""A line the person typed, or a JSON line a script wrote -> `Incoming`. Pure: the last
reply with buttons is passed in, nothing is read or written here."""

from __future__ import annotations

import json

from bot import commands
from bot.types import Incoming, IncomingKind, Reply, SessionKey

# Commands a script may send: every command a person may give, except the admins' own.
JSON_COMMANDS = tuple(n for n in commands.names()
                      if not commands.BY_NAME[commands.ALIASES.get(n, n)].admin)


def from_text(line: str, key: SessionKey, last: Reply | None, lang: str | None) -> Incoming:
    """A typed line: the number of one of the last reply's buttons, or text."""
    buttons = last.buttons if last else ()
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        button = buttons[int(line) - 1]
        kind: IncomingKind = "answer" if button.kind == "answer" else "command"
        return Incoming(key, kind, button.value, last.token if last else None, lang)
    return Incoming(key, "text", line, lang_hint=lang)


def from_json(line: str, key: SessionKey, last: Reply | None, lang: str | None
              ) -> Incoming | str:
    """A JSON line (SPEC section 6), or the error message for the script when it is none."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return "invalid JSON: send {\"answer\": \"<option id>\"} or {\"command\": \"back\"}"
    if not isinstance(data, dict):
        return "expected a JSON object"
    token = last.token if last else None
    if isinstance(data.get("answer"), str):
        return Incoming(key, "answer", data["answer"], token, lang)
    if isinstance(data.get("command"), str):
        name = data["command"].strip()
        if name.split(" ")[0] not in JSON_COMMANDS:
            return f"unknown command {name!r}; known: {', '.join(JSON_COMMANDS)}"
        command: IncomingKind = "start" if name == "start" else "command"
        return Incoming(key, command, name, token, lang)
    if isinstance(data.get("text"), str):
        return Incoming(key, "text", data["text"], lang_hint=lang)
    return "expected {\"answer\": ...}, {\"command\": ...} or {\"text\": ...}"
