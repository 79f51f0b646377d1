"""Slack side of the wellness channels: tips in channels, follow-ups in DMs, and
`/backcheck stats` for wellness leads.

A tip's button is the App Home's start button (`START_ACTION`): clicked in a channel, the
adapter opens the clicker's DM, starts the check there and tells them so privately.
Totals are only ever answered ephemerally, to the person who asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_blocks as kit
from bot.errors import DeliveryError
from bot.types import Incoming, Reply, SessionKey
from bot.wellness.scheduler import Scheduler

if TYPE_CHECKING:
    from bot.adapters.slack import SlackBot


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


def outbox(bot: SlackBot) -> SlackOutbox:
    """The outbox of a Slack bot, running or only created (`backcheck tips post`)."""
    return SlackOutbox(bot.client)


def scheduler(bot: SlackBot, *, poll: float = 30.0) -> Scheduler:
    """The wellness scheduler of a running Slack bot."""
    return Scheduler(bot.app, {"slack": outbox(bot)}, poll=poll)


async def stats(bot: SlackBot, body: dict[str, Any], respond: AsyncRespond) -> None:
    """`/backcheck stats`: the totals for an admin (BACKCHECK_ADMINS), a polite refusal for
    anyone else; ephemeral either way, so nothing shows in the channel."""
    team, user = str(body.get("team_id") or ""), str(body["user_id"])
    key = SessionKey("slack", team, str(body.get("channel_id") or ""), user)
    hint = await bot.locale(team, user)
    for reply in await bot.app.handle(Incoming(key, "command", "stats", lang_hint=hint)):
        for payload in kit.render(reply):
            await respond(**payload, response_type="ephemeral", replace_original=False)


def install(bot: SlackBot) -> None:
    """Answer `/backcheck stats` (or `statistik`: any language's word) in the adapter,
    before any DM is opened."""
    for words in bot.app.locales.words_everywhere("words.stats").values():
        for word in words:
            bot.subcommands[word.lower()] = stats

