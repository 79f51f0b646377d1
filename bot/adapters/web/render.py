"""`Reply` -> JSON for the chat page. Pure: no I/O and no words of its own; the page
inserts every string as text (never as HTML), so nothing here needs escaping.

A message is one of

    {"type": "question", "id", "lead", "progress": [n, total] | null, "progress_text",
     "text", "token", "buttons": [{"kind": "answer" | "command", "id", "label"}],
     "level": the level already known (after an emergency sign) | null}
    {"type": "outcome", "level", "icon", "headline", "advice", "sections": [...],
     "why": [...], "fits": [...], "token", "buttons"}
    {"type": "summary", "text"}                 the answers for the doctor, to copy or print
    {"type": "message", "text", "token", "buttons"}
    {"type": "notice", "text"}                  e.g. "already answered"
    {"type": "error", "text"}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bot.types import Button, Reply

JSON = dict[str, Any]
WEB_LESS = ("followup",)  # buttons a web page cannot honour (nobody to write to later)


def buttons(items: Iterable[Button]) -> list[JSON]:
    """The buttons a page can offer, with their option id or command as `id`."""
    return [{"kind": b.kind, "id": b.value, "label": b.label}
            for b in items if b.value not in WEB_LESS]


def question(reply: Reply) -> JSON:
    """A question or info message; the progress line is cut out of the text for the bar."""
    body = reply.text
    if reply.lead and body.startswith(reply.lead):
        body = body[len(reply.lead):].lstrip("\n")
    progress_text = ""
    if reply.progress and reply.prompt and body.endswith(reply.prompt):
        progress_text = body[: len(body) - len(reply.prompt)].strip()
    return {"type": "question", "id": reply.node, "lead": reply.lead,
            "progress": list(reply.progress) if reply.progress else None,
            "progress_text": progress_text, "text": reply.prompt or body,
            "token": reply.token, "buttons": buttons(reply.buttons), "level": reply.level}


def outcome(reply: Reply) -> JSON:
    """The result: the headline (its icon apart, for the level's colour) then the parts."""
    parts = list(reply.sections) or [reply.text]
    head, _, advice = parts[0].partition("\n\n")
    icon, _, headline = head.partition(" ")
    if not headline or icon.isalnum():
        icon, headline = "", head
    out = reply.outcome
    return {"type": "outcome", "level": out.level if out else None, "icon": icon,
            "headline": headline, "advice": advice, "sections": parts[1:],
            "why": list(out.why) if out else [], "fits": list(out.fits) if out else [],
            "token": reply.token, "buttons": buttons(reply.buttons)}


def message(reply: Reply, *, summary: bool = False) -> JSON | None:
    """Any one reply as the page shows it; None for what a page does not show."""
    if reply.kind in ("question", "info"):
        return question(reply)
    if reply.kind == "outcome":
        return outcome(reply)
    if reply.kind == "answered":
        return None  # the page shows the person's own choice
    if reply.kind == "stale":
        return {"type": "notice", "text": reply.text}
    if reply.kind == "error":
        return {"type": "error", "text": reply.text}
    if summary and not reply.buttons:
        return {"type": "summary", "text": reply.text}
    return {"type": "message", "text": reply.text, "token": reply.token,
            "buttons": buttons(reply.buttons)}


def messages(replies: Iterable[Reply], *, command: str = "") -> list[JSON]:
    """A turn's replies for the page. After the "summary" command its first plain message
    is the summary itself."""
    out: list[JSON] = []
    summary = command == "summary"
    for reply in replies:
        shown = message(reply, summary=summary)
        if shown is not None:
            summary = summary and shown["type"] != "summary"
            out.append(shown)
    return out


def resumed(replies: list[Reply], lead: str) -> list[Reply]:
    """Where a check stands, for a page (re)loaded mid-conversation: only the current
    question or result, headed by `lead` ("Welcome back"), not the replies before it."""
    current = [r for r in replies if r.buttons or r.kind == "error"]
    if not current:
        return replies
    last = current[-1]
    if last.kind in ("question", "info"):
        text = last.text[len(last.lead):].lstrip("\n") if last.lead else last.text
        last = replace(last, lead=lead, text=f"{lead}\n\n{text}" if lead else text)
    elif last.kind == "message":
        last = replace(last, lead="")
    return [last]
