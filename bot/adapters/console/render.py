"""`Reply` -> what the terminal prints: text with numbered options, or one JSON object per
line (SPEC section 6). Pure functions."""

from __future__ import annotations

import json
from typing import Any

from bot.types import Reply


def text(reply: Reply) -> str:
    """A reply as text, its buttons numbered."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        lines += [f"  {i}. {b.label}" for i, b in enumerate(reply.buttons, 1)]
    return "\n".join(lines) + "\n"


def json_line(reply: Reply | None) -> str:
    """A reply as one JSON object: question, outcome, message or error."""
    if reply is None:
        return "{}"
    data: dict[str, Any]
    if reply.kind in ("question", "info"):
        data = {"type": "question", "id": reply.node, "text": reply.prompt,
                "options": [{"id": b.value, "label": b.label} for b in reply.buttons
                            if b.kind == "answer"],
                "progress": list(reply.progress) if reply.progress else None}
        commands = [{"command": b.value, "label": b.label} for b in reply.buttons
                    if b.kind == "command"]
        if commands:  # e.g. "Show my result now" once the level is known
            data["actions"] = commands
        if reply.level:  # the level already known, and the banner that says so
            data["level"] = reply.level
            data["lead"] = reply.lead
    elif reply.kind == "outcome" and reply.outcome:
        data = {"type": "outcome", "level": reply.outcome.level,
                "fits": list(reply.outcome.fits), "why": list(reply.outcome.why),
                "text": reply.text,
                "actions": [{"command": b.value, "label": b.label} for b in reply.buttons]}
    elif reply.kind in ("error", "stale"):
        data = {"type": "error", "message": reply.text}
    else:
        data = {"type": "message", "text": reply.text}
        if reply.buttons:
            data["actions"] = [{"command": b.value, "label": b.label} for b in reply.buttons]
    return json.dumps(data, ensure_ascii=False)
