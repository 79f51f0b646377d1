"""Microsoft Teams (Microsoft 365 Agents SDK): `backcheck teams`, HTTP on /api/messages.

Rooms: inbound.py (Activities -> Incoming, pure), render.py (Reply -> Adaptive Card
Activities, pure), transport.py (the SDK's adapter, token check and connector client;
429s waited out), agent.py (the SDK agent: one `App.handle` call per activity),
serve.py (`backcheck teams`, `backcheck teams manifest`), outbox.py (tips in channels,
follow-ups in the personal chat), manifest.py (the app package an admin uploads).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.platform import Capabilities, Platform
from bot.variables import NO_SPACE, Var, http_url, matching

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Teams' global endpoint for messages the bot starts itself (tips, follow-ups).
SERVICE_URL = "https://smba.trafficmanager.net/teams/"


def service_url(raw: str) -> str:
    """The connector's base URL; the SDK joins paths to it, so it ends with '/'."""
    return http_url(raw).rstrip("/") + "/"


def person_of(parts: list[str], settings: Any) -> str | None:
    """`teams:<tenant id>:<aad object id>` as the person key the adapter builds."""
    return f"teams:{parts[0]}:{parts[1]}" if len(parts) == 2 and all(parts) else None


PLATFORM = Platform(
    name="teams",
    person_of=person_of,
    person_example="teams:<tenant id>:<aad object id>",
    # The bot may open a personal chat only where the app is installed for the person:
    # a channel gets a card that opens it (and the first question when Teams allows).
    capabilities=Capabilities(can_edit=True, shared_chats=True, opens_private_chat=False,
                              can_follow_up=True, whispers=False),
    cli="bot.adapters.teams.serve",
    variables=(
        Var("TEAMS_APP_ID", "teams_app_id",
            "the Azure Bot's Microsoft App ID, a GUID", matching(GUID)),
        Var("TEAMS_APP_PASSWORD", "teams_app_password",
            "a client secret of the bot's app registration, without spaces",
            matching(NO_SPACE), secret=True),
        Var("TEAMS_TENANT_ID", "teams_tenant_id",
            "the Directory (tenant) ID of the workplace's Microsoft Entra ID, a GUID",
            matching(GUID)),
        Var("TEAMS_SERVICE_URL", "teams_service_url",
            f"the Bot Connector URL for messages the bot starts, such as {SERVICE_URL}",
            service_url, default=SERVICE_URL),
    ),
    # bearer tokens (JWTs) in case a library logs a request's headers
    token_patterns=(re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),),
    # the SDK logs conversation ids and activity details at INFO (its connector client at
    # ERROR too, with the conversation id in the path); MSAL logs token requests
    log_levels=(("microsoft_agents", logging.WARNING), ("msal", logging.WARNING),
                ("microsoft_agents.hosting.core.connector", logging.CRITICAL)),
    user_id=GUID,
    outbox="bot.adapters.teams.outbox:created",
    user_id_example="00000000-0000-0000-0000-000000000001",
    token_variable="TEAMS_APP_PASSWORD",
    tip_target_example="19:abc123@thread.tacv2",
)
