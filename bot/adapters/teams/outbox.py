"""Teams side of the wellness channels: tips in channels, follow-ups in personal chats.

Both are messages the bot starts itself: the SDK's `continue_conversation` with a
conversation reference made of the stored key (tenant, conversation id) and the Bot
Connector URL TEAMS_SERVICE_URL. A tip's button starts a check; pressed in the channel,
the App sends the person on to their personal chat.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount, ChannelId, ConversationAccount
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams import render
from bot.adapters.teams.transport import (
    CHANNEL,
    TRANSPORT_ERRORS,
    auth_configuration,
    cloud_adapter,
)
from bot.app import App
from bot.config import Settings
from bot.errors import DeliveryError
from bot.types import Reply, SessionKey
from bot.wellness.scheduler import Outbox, Scheduler

Send = Callable[[TurnContext], Awaitable[None]]
Replier = Callable[[TurnContext, Sequence[Reply]], Awaitable[None]]


class TeamsOutbox:
    """Posts through the SDK adapter as the bot (its app id)."""

    platform = "teams"

    def __init__(self, adapter: CloudAdapter, settings: Settings, reply: Replier) -> None:
        self.adapter, self.reply = adapter, reply
        self.app_id = settings.get("teams_app_id")
        self.tenant = settings.get("teams_tenant_id")
        self.service_url = settings.get("teams_service_url")

    async def post_tip(self, target: str, text: str, button: str) -> None:
        async def post(context: TurnContext) -> None:
            await context.send_activity(render.tip(text, button))

        await self._deliver(target, self.tenant, post)

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        async def post(context: TurnContext) -> None:
            await self.reply(context, replies)

        await self._deliver(key.chat, key.workspace or self.tenant, post)

    async def _deliver(self, conversation: str, tenant: str, send: Send) -> None:
        """Run `send` in this conversation; the connector's refusal becomes DeliveryError."""
        reference = Activity(
            type="event", name="continueConversation", channel_id=ChannelId(CHANNEL),
            service_url=self.service_url, recipient=ChannelAccount(id=f"28:{self.app_id}"),
            conversation=ConversationAccount(id=conversation, tenant_id=tenant))
        try:
            await self.adapter.continue_conversation(self.app_id, reference, send)
        except aiohttp.ClientResponseError as exc:
            raise DeliveryError(f"teams connector answered {exc.status}") from exc
        except TRANSPORT_ERRORS as exc:
            raise DeliveryError(type(exc).__name__) from exc


def scheduler(app: App, outbox: TeamsOutbox, *, poll: float = 30.0) -> Scheduler:
    """The wellness scheduler of a running Teams bot."""
    return Scheduler(app, {"teams": outbox}, poll=poll)


async def _cards(context: TurnContext, replies: Sequence[Reply]) -> None:
    for reply in replies:
        for activity in render.render(reply):
            await context.send_activity(activity)


@contextlib.asynccontextmanager
async def created(app: App, settings: Settings) -> AsyncIterator[Outbox]:
    """An outbox outside the running bot (`backcheck tips post`): no request is served."""
    settings.require("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID")
    yield TeamsOutbox(cloud_adapter(auth_configuration(settings)), settings, _cards)
