"""Slack request bodies -> `Incoming`. Pure: no I/O.

`/backcheck <text>` becomes a command in any language (nothing: start; no command: help);
a button's value carries the stale-button token (render.py) and is checked here, so a
garbled or forged one is ignored.
"""

from __future__ import annotations

from typing import Any

from bot import commands
from bot.adapters.slack import render as kit
from bot.i18n import Locales
from bot.types import Incoming, IncomingKind, SessionKey

Body = dict[str, Any]


def team_of(body: Body) -> str:
    """The workspace a request comes from, wherever this kind of payload keeps it."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or body.get("user", {}).get("team_id") or "")


def who(team: str, user: str) -> str:
    """The pseudonymous id of a person for logs."""
    return SessionKey("slack", team, "", user).hashed()


def part(body: Body, name: str) -> Body:
    """A sub-object of a payload, or {} when Slack (or a forger) left it out or null."""
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def subcommand(text: str, locales: Locales) -> tuple[IncomingKind, str]:
    """What `/backcheck <text>` asks for, in any language ("help", "lang sv", "glöm mig"):
    nothing starts a check; words that are no command a person may give (`followup`) get
    the help text."""
    if not text.strip():
        return "start", ""
    command = commands.parse_text(text, locales) or commands.given(text)
    if command is None:
        return "command", "help"
    if command.name == "start":
        return "start", ""
    return "command", command.text()


def in_place(value: str) -> bool:
    """Whether a subcommand is answered where it is asked (bot/commands.py), e.g. stats."""
    command = commands.parse_value(value)
    return command is not None and command.spec.in_place


def button(body: Body, key: SessionKey, hint: str | None = None) -> Incoming | None:
    """An answer or command button press; None when its value is garbled or forged."""
    action = (body.get("actions") or [{}])[0]
    if not isinstance(action, dict):
        return None
    parsed = kit.parse_value(action.get("value"))
    if parsed is None:
        return None
    token, value = parsed
    answer = str(action.get("action_id")).startswith(kit.ANSWER_PREFIX)
    kind: IncomingKind = "answer" if answer else "command"
    return Incoming(key, kind, value, token=token, lang_hint=hint)


def typed(body: Body, event: Body) -> Incoming | None:
    """A typed answer in the DM. Only people's own plain messages: no edits, joins, bots
    (our own messages included)."""
    if (event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id")
            or not event.get("user") or not isinstance(event.get("text"), str)):
        return None
    team = team_of(body) or str(event.get("team") or "")
    key = SessionKey("slack", team, str(event["channel"]), str(event["user"]))
    return Incoming(key, "text", event["text"],
                    message=str(event.get("client_msg_id") or event.get("ts") or ""))
