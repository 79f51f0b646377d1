"""Slack (slack-bolt): `backcheck slack`, Socket Mode or HTTP on /slack/events.

Rooms: inbound.py (request bodies -> Incoming, pure), render.py (Reply -> Block Kit,
pure), transport.py (the Web API client, 429s waited out), bot.py (Bolt listeners: ack
first, then one `App.handle` call), serve.py (the HTTP and Socket Mode servers,
`backcheck slack`), outbox.py (tips in channels, follow-ups in DMs), cache.py.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.platform import Capabilities, Platform
from bot.variables import NO_SPACE, Var, http_url, matching


def api_url(raw: str) -> str:
    """slack_sdk appends the method name to the base URL, so it must end with '/'."""
    return http_url(raw).rstrip("/") + "/"


def person_of(parts: list[str], settings: Any) -> str | None:
    """`slack:<team id>:<user id>` as the person key the adapter builds."""
    return f"slack:{parts[0]}:{parts[1]}" if len(parts) == 2 and all(parts) else None


PLATFORM = Platform(
    name="slack",
    person_of=person_of,
    person_example="slack:<team id>:<user id>",
    capabilities=Capabilities(can_edit=True, shared_chats=True, opens_private_chat=True,
                              can_follow_up=True, whispers=True),
    cli="bot.adapters.slack.serve",
    variables=(
        Var("SLACK_BOT_TOKEN", "slack_bot_token", "the app's Bot User OAuth Token, xoxb-...",
            matching(NO_SPACE, "xoxb-"), secret=True),
        Var("SLACK_SIGNING_SECRET", "slack_signing_secret",
            "the app's Signing Secret (Basic Information page), without spaces",
            matching(NO_SPACE), secret=True),
        Var("SLACK_APP_TOKEN", "slack_app_token", "an app-level token for Socket Mode, xapp-...",
            matching(NO_SPACE, "xapp-"), secret=True),
        Var("SLACK_API_URL", "slack_api_url", "an http(s) URL such as https://slack.com/api/",
            api_url, default="https://slack.com/api/"),
    ),
    token_patterns=(
        re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),  # bot, user and refresh tokens
        re.compile(r"xapp-[A-Za-z0-9-]+"),  # app-level tokens
    ),
    # both log request bodies (message text) at INFO and DEBUG
    log_levels=(("slack_sdk", logging.WARNING), ("slack_bolt", logging.WARNING)),
    user_id=re.compile(r"[UW][A-Z0-9]{2,}"),
    outbox="bot.adapters.slack.outbox:created",
    user_id_example="U0123ABCD",
    token_variable="SLACK_BOT_TOKEN",
    tip_target_example="C0123ABCD",
)
