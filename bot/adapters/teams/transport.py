"""The Teams adapter's link to the Microsoft 365 Agents SDK: the token check on every
incoming request, the connector client for replies, and 429s waited out, not dropped.

- Incoming: the SDK's `jwt_authorization_decorator` checks the bearer token of every
  POST /api/messages (signature against Microsoft's published keys, audience = our app
  id, expiry) and, because we opt in with VALIDATE_ISSUER, the issuer: the Bot Framework
  service or our own tenant only.
- Outgoing: the SDK's CloudAdapter with an MSAL connection (single tenant, client secret)
  gets the token for the Bot Connector and posts to the activity's serviceUrl.
- The Bot Connector answers a burst with 429 and Retry-After: `patiently` waits that out
  as long as the waits add up to at most PATIENCE seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    AuthenticationConstants,
    AuthTypes,
)

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger("backcheck.teams")

CHANNEL = "msteams"
CONNECTION = "SERVICE_CONNECTION"
AUDIENCE = AuthenticationConstants.AGENTS_SDK_SCOPE  # the Bot Connector's token audience
PATIENCE = 60.0
# Library failures that end one send; logged by type, never with content. The SDK's
# MSAL provider raises ValueError when no token could be had.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ValueError)

T = TypeVar("T")


def check_settings(settings: Settings) -> None:
    """Fail at start, naming the missing variable."""
    settings.require("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID",
                     "BACKCHECK_SECRET_KEY")


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's configuration for a single-tenant bot, issuer checking switched on."""
    try:
        return AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret,
            client_id=settings.get("teams_app_id"),
            tenant_id=settings.get("teams_tenant_id"),
            client_secret=settings.get("teams_app_password"),
            connection_name=CONNECTION,
            validate_issuer=True,
        )
    except ValueError as exc:
        raise ConfigError(f"Teams settings: {exc}") from None


def cloud_adapter(config: AgentAuthConfiguration) -> CloudAdapter:
    """The SDK adapter that runs turns and sends through the Bot Connector. Its default
    turn-error handler would send the exception text to the person; the agent catches
    everything in a turn itself, so what reaches this one is a failed message the bot
    started (a tip, a follow-up): it goes back to the caller, who counts it."""
    adapter = CloudAdapter(connection_manager=MsalConnectionManager(
        connections_configurations={CONNECTION: config}))

    async def on_turn_error(context: object, error: Exception) -> None:
        raise error

    adapter.on_turn_error = on_turn_error
    return adapter


def retry_after(exc: aiohttp.ClientResponseError) -> float:
    """The wait a 429 asks for, in seconds (1 when the header is missing or unreadable)."""
    try:
        return max(0.0, float(exc.headers.get("Retry-After", "1") if exc.headers else "1"))
    except ValueError:
        return 1.0


async def patiently(call: Callable[[], Awaitable[T]], patience: float = PATIENCE) -> T:
    """Make a connector call, again after each 429's Retry-After while the waits add up
    to at most `patience` seconds; past that the 429 is raised."""
    waited = 0.0
    while True:
        try:
            return await call()
        except aiohttp.ClientResponseError as exc:
            wait = retry_after(exc)
            if exc.status != 429 or waited + wait > patience:
                raise
            waited += wait
            await asyncio.sleep(wait)
