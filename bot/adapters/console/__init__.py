"""The terminal: `backcheck chat`, interactive or as JSON lines for scripts.

Rooms: inbound.py (a typed line or JSON line -> Incoming, pure), render.py (Reply ->
printed text or one JSON object, pure), transport.py (one terminal conversation),
serve.py (the read-print loop and `backcheck chat`). No outbox: a terminal cannot be
written to days later.
"""

from __future__ import annotations

from bot.platform import Capabilities, Platform

PLATFORM = Platform(
    name="console",
    capabilities=Capabilities(),
    cli="bot.adapters.console.serve",
)
