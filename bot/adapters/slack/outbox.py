"""Slack side of the wellness channels: tips in channels, follow-ups in DMs.

A tip's button is the App Home's start button (`START_ACTION`): clicked in a channel, the
adapter asks the App, which redirects to the clicker's DM, where the check starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render as kit
from bot.adapters.slack.transport import web_client
from bot.app import App
from bot.config import Settings
from bot.errors import DeliveryError
from bot.types import Reply, SessionKey
from bot.wellness.scheduler import Outbox, Scheduler


async def _deliver(call: Awaitable[Any]) -> None:
    """Make a Web API call; Slack's refusal (e.g. not_in_channel) becomes DeliveryError."""
    try:
        await call
    except SlackApiError as exc:
        raise DeliveryError(str(exc.response.get("error") or "slack_api_error")) from exc
    except (TimeoutError, SlackClientError, aiohttp.ClientError) as exc:
        raise DeliveryError(type(exc).__name__) from exc


class SlackOutbox:
    """Posts with the bot's Web API client."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post_tip(self, target: str, text: str, button: str) -> None:
        await _deliver(self.client.chat_postMessage(channel=target, **kit.tip(text, button)))

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        for reply in replies:
            for payload in kit.render(reply):
                await _deliver(self.client.chat_postMessage(channel=key.chat, **payload))


def scheduler(app: App, client: AsyncWebClient, *, poll: float = 30.0) -> Scheduler:
    """The wellness scheduler of a running Slack bot."""
    return Scheduler(app, {"slack": SlackOutbox(client)}, poll=poll)


@contextlib.asynccontextmanager
async def created(app: App, settings: Settings) -> AsyncIterator[Outbox]:
    """An outbox outside the running bot (`backcheck tips post`): no request is served."""
    yield SlackOutbox(web_client(settings))
