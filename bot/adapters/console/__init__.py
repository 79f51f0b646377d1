"""The terminal: `backcheck chat`, interactive or as JSON lines for scripts.

Rooms: inbound.py (a typed line or JSON line -> Incoming, pure), render.py (Reply ->
printed text or one JSON object, pure), transport.py (one terminal conversation),
serve.py (the read-print loop and `backcheck chat`). No outbox: a terminal cannot be
written to days later.
"""

from __future__ import annotations

from typing import Any

from bot.platform import Capabilities, Platform


def person_of(parts: list[str], settings: Any) -> str | None:
    """`console:<login name>`: the terminal's person key for that login."""
    if len(parts) != 1 or not parts[0]:
        return None
    login = parts[0] if parts[0].startswith("user-") else f"user-{parts[0]}"
    return f"console:local:{login}"


PLATFORM = Platform(
    name="console",
    person_of=person_of,
    person_example="console:<login name>",
    capabilities=Capabilities(wording="terminal"),
    cli="bot.adapters.console.serve",
)
