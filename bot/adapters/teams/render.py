"""Adaptive Cards for the Teams adapter: engine replies -> Teams message Activities.

Pure functions, no I/O and no prose: every word arrives already localized. Each reply is
one card (an outcome with many parts, several, kept under Teams' 28 KB per message);
buttons are Action.Submit buttons in action sets of at most five (Teams shows no more
in a row), their data carrying `<stale-button token>|<option id or command>` (inbound.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from microsoft_agents.activity import Activity, Attachment

from bot.adapters.teams.inbound import DATA, KIND
from bot.types import Button, Reply

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
ACTIONS_MAX = 5
TEXT_MAX = 20_000  # characters of text per card, well under the 28 KB message limit
TITLE_MAX = 100
DEEP_LINK = "https://teams.microsoft.com/l/chat/0/0?users="

Element = dict[str, Any]


def text_block(text: str, **style: Any) -> Element:
    """A wrapping TextBlock."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def button_value(token: str | None, value: str) -> str:
    """The compact value a button carries: `<token>|<option id or command>`."""
    return f"{token or ''}|{value}"


def submit(button: Button, token: str | None) -> Element:
    """An Action.Submit button sending its value back to the bot."""
    label = button.label if len(button.label) <= TITLE_MAX else button.label[:TITLE_MAX - 1] + "…"
    return {"type": "Action.Submit", "title": label,
            "data": {DATA: button_value(token, button.value), KIND: button.kind}}


def action_sets(actions: list[Element]) -> list[Element]:
    """Action sets of at most ACTIONS_MAX buttons each."""
    return [{"type": "ActionSet", "actions": actions[i : i + ACTIONS_MAX]}
            for i in range(0, len(actions), ACTIONS_MAX)]


def card(body: list[Element]) -> Attachment:
    """An Adaptive Card attachment with this body."""
    content = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
               "body": body, "msteams": {"width": "Full"}}
    return Attachment(content_type=CARD, content=content)


def message(body: list[Element], summary: str) -> Activity:
    """A message Activity holding one card; `summary` is the notification line."""
    return Activity(type="message", attachments=[card(body)], summary=summary[:TITLE_MAX])


def _chunks(parts: tuple[str, ...]) -> list[list[str]]:
    """Parts grouped so that no card holds more than TEXT_MAX characters."""
    chunks: list[list[str]] = [[]]
    size = 0
    for part in parts:
        for piece in [part[i : i + TEXT_MAX] for i in range(0, max(len(part), 1), TEXT_MAX)]:
            if chunks[-1] and size + len(piece) > TEXT_MAX:
                chunks.append([])
                size = 0
            chunks[-1].append(piece)
            size += len(piece)
    return chunks


def render(reply: Reply) -> list[Activity]:
    """A reply as one or more card messages; buttons go under the last one."""
    parts = reply.sections if reply.kind == "outcome" and reply.sections else (reply.text,)
    chunks = _chunks(tuple(p for p in parts if p) or (" ",))
    out = []
    for i, chunk in enumerate(chunks):
        body = [text_block(part, separator=j > 0, spacing="Medium" if j else "Default")
                for j, part in enumerate(chunk)]
        if i == len(chunks) - 1:
            body += action_sets([submit(b, reply.token) for b in reply.buttons])
        out.append(message(body, chunk[0]))
    return out


def answered(reply: Reply, message_id: str) -> Activity:
    """The update for an answered question's card: its text and the choice, no buttons."""
    activity = message([text_block(reply.text)], reply.text)
    activity.id = message_id
    return activity


def notice(text: str) -> Activity:
    """A short plain message (a stale button's notice)."""
    return Activity(type="message", text=text)


def chat_link(app_id: str) -> str:
    """The deep link that opens the person's chat with the bot."""
    return DEEP_LINK + quote(f"28:{app_id}", safe="")


def redirect(reply: Reply, app_id: str) -> Activity:
    """A shared chat's answer: the App's words, its button opening the personal chat."""
    actions = [{"type": "Action.OpenUrl", "title": b.label, "url": chat_link(app_id)}
               for b in reply.buttons[:1]]
    return message([text_block(reply.text), *action_sets(actions)], reply.text)


def tip(text: str, label: str) -> Activity:
    """A tip for a channel, with the button that starts a check (the App sends the
    clicker on to the personal chat)."""
    start = Button("command", "start", label)
    return message([text_block(text), *action_sets([submit(start, None)])], text)
