"""Telegram (python-telegram-bot 22): `backcheck telegram`, long polling or a webhook.

Rooms: inbound.py (Update -> Incoming, pure), render.py (Reply -> messages and inline
keyboards, pure), transport: flood.py (429s waited out), updates.py (unreadable updates
skipped), webhook.py (our own aiohttp webhook server); handlers.py (PTB handlers, one
`App.handle` call each), serve.py (build, start, stop, `backcheck telegram`), outbox.py
(tips in groups, follow-ups in private chats).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.platform import Capabilities, Platform
from bot.variables import Var, http_url, matching

TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,64}")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

def person_of(parts: list[str], settings: Any) -> str | None:
    """`telegram:<user id>` (the bot's id is the first part of TELEGRAM_BOT_TOKEN) or
    `telegram:<bot id>:<user id>` as the person key the adapter builds."""
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"telegram:{parts[0]}:{parts[1]}"
    bot_id = str(settings.get("telegram_bot_token")).partition(":")[0]
    if len(parts) == 1 and parts[0].isdigit() and bot_id:
        return f"telegram:{bot_id}:{parts[0]}"
    return None


PLATFORM = Platform(
    name="telegram",
    person_of=person_of,
    person_example="telegram:<user id> (with TELEGRAM_BOT_TOKEN set), telegram:<bot id>:<user id>",
    capabilities=Capabilities(can_edit=True, shared_chats=True, can_follow_up=True),
    cli="bot.adapters.telegram.serve",
    variables=(
        Var("TELEGRAM_BOT_TOKEN", "telegram_bot_token", "the token from @BotFather, "
            "<digits>:<30-64 letters, digits, - or _>", matching(TOKEN), secret=True),
        Var("TELEGRAM_API_BASE_URL", "telegram_api_base_url",
            "an http(s) URL such as https://api.telegram.org/bot", http_url,
            default="https://api.telegram.org/bot"),
        Var("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret",
            "1-256 characters A-Z, a-z, 0-9, _ or -", matching(WEBHOOK_SECRET), secret=True),
    ),
    token_patterns=(re.compile(r"(?<!\d)\d{5,20}:[A-Za-z0-9_-]{30,}"),),  # also inside URLs
    # httpx logs every request URL, and the URL holds the bot token
    log_levels=(("httpx", logging.WARNING), ("httpcore", logging.WARNING),
                ("telegram", logging.INFO)),
    user_id=re.compile(r"[0-9]+"),
    outbox="bot.adapters.telegram.outbox:connected",
    user_id_example="123456789",
    token_variable="TELEGRAM_BOT_TOKEN",
    tip_target_example="-1001234567890",
)
