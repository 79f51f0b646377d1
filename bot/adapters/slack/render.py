"""Block Kit rendering for the Slack adapter: engine replies -> Slack message payloads.

Pure functions, no I/O and no prose: every word arrives already localized. Slack's
limits are enforced here so that nothing sent can be refused: section text at most
3,000 characters, button text 75, button value 2,000, 50 blocks per message, 25
elements per actions block, action_ids unique within a message.
"""

from __future__ import annotations

import re
from typing import Any

from bot import paging
from bot.types import Button, Home, Reply

SECTION_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BLOCKS_MAX = 50
ACTIONS_MAX = 25
FALLBACK_MAX = 3000  # top-level `text`: the notification line, not the whole message

ANSWER_PREFIX = "bc_answer_"
COMMAND_PREFIX = "bc_cmd_"
START_ACTION = "bc_start"
HOME_LANG_PREFIX = "bc_lang_"

_VALUE = re.compile(r"(?P<token>[A-Za-z0-9_.-]{0,64})\|(?P<value>[A-Za-z0-9_ -]{1,64})")

Block = dict[str, Any]
Payload = dict[str, Any]  # keyword arguments for chat.postMessage / chat.update


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int = SECTION_MAX) -> list[str]:
    """Cut text into parts of at most `limit` characters, at a paragraph break if
    possible, else a line break, else a space; never mid-word unless a word is longer."""
    return paging.split(text, limit, ("\n\n", "\n", " "))


def sections(text: str) -> list[Block]:
    """One or more section blocks holding `text` (escaped for mrkdwn)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in split_text(escape(text))
    ]


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1] + "…"


def button(label: str, action_id: str, value: str, *, primary: bool = False) -> Block:
    """A plain-text button within Slack's limits."""
    out: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _label(label), "emoji": True},
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_MAX],
    }
    if primary:
        out["style"] = "primary"
    return out


def button_value(token: str | None, value: str) -> str:
    """The compact value a button carries: `<token>|<option id or command>`. The token is
    the engine's stale-button token, so a button from an earlier turn is recognised."""
    return f"{token or ''}|{value}"


def parse_value(value: object) -> tuple[str | None, str] | None:
    """(token, option id or command) from a button's value; None when garbled or forged."""
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    return match["token"] or None, match["value"]


def _button_for(index: int, b: Button, token: str | None) -> Block:
    prefix = ANSWER_PREFIX if b.kind == "answer" else COMMAND_PREFIX
    return button(b.label, f"{prefix}{index}", button_value(token, b.value))


def actions(buttons: tuple[Button, ...], token: str | None) -> list[Block]:
    """Actions blocks for these buttons (25 per block), action_ids unique per message."""
    elements = [_button_for(i, b, token) for i, b in enumerate(buttons)]
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_MAX]}
        for i in range(0, len(elements), ACTIONS_MAX)
    ]


def fallback(blocks: list[Block]) -> str:
    """A message's top-level text (notifications, screen readers): its sections' text,
    already escaped, cut at a word boundary to a notification-sized length."""
    text = "\n\n".join(
        b["text"]["text"] for b in blocks if b.get("type") == "section" and "text" in b
    )
    return split_text(text, FALLBACK_MAX)[0] if text else " "


def render(reply: Reply) -> list[Payload]:
    """A reply as one or more messages (more only if it needs over 50 blocks).
    Outcomes use one section per part; buttons go under the last message."""
    parts = reply.sections if reply.kind == "outcome" and reply.sections else (reply.text,)
    body = [block for part in parts for block in sections(part)]
    tail = actions(reply.buttons, reply.token)
    room = BLOCKS_MAX - len(tail)
    chunks = [body[i : i + BLOCKS_MAX] for i in range(0, max(len(body), 1), BLOCKS_MAX)]
    if len(chunks[-1]) > room:
        chunks.append([])
    chunks[-1] = chunks[-1] + tail
    return [{"text": fallback(blocks), "blocks": blocks} for blocks in chunks]


def tip(text: str, label: str) -> Payload:
    """A tip for a channel, with the button that starts a check in the clicker's DM."""
    start = {"type": "actions", "elements": [button(label, START_ACTION, "start", primary=True)]}
    blocks = [*sections(text)[: BLOCKS_MAX - 1], start]
    return {"text": fallback(blocks), "blocks": blocks}


def answered(reply: Reply) -> Payload:
    """The update for a question that has been answered: its text and the choice, no buttons."""
    blocks = sections(reply.text)[:BLOCKS_MAX]
    return {"text": fallback(blocks), "blocks": blocks}


def home_view(home: Home) -> dict[str, Any]:
    """The App Home tab from the App's `Home`: start a check, choose a language, what is
    stored and why; the notice (e.g. "the first question is in Messages") under the start
    button."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": home.title[:150],
                                    "emoji": True}},
        *sections(home.intro),
        {"type": "actions",
         "elements": [button(home.start.label, START_ACTION, home.start.value, primary=True)]},
        *sections(home.notice),
        {"type": "divider"},
        *sections(f"*{escape(home.language_title)}*\n{home.language}"),
        {
            "type": "actions",
            "elements": [
                button(b.label, f"{HOME_LANG_PREFIX}{b.value.partition(' ')[2]}",
                       button_value(None, b.value))
                for b in home.languages
            ],
        },
        {"type": "divider"},
        *sections(f"*{escape(home.privacy_title)}*\n{home.privacy}"),
    ]
    return {"type": "home", "blocks": blocks[:100]}
