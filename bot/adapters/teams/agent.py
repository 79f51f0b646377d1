"""The SDK agent: Teams Activities -> `Incoming` (inbound.py), `Reply` -> Adaptive Cards
(render.py). Translation only; the conversation and every policy are the App's.

Each activity is one turn, answered before the HTTP request returns (Teams waits up to
15 seconds; a turn takes milliseconds). A pressed card is updated to show the choice. In
a channel or group chat the App's redirect is shown as a card that opens the personal
chat, and the check is started there when Teams lets the bot write first (the app is
installed for the person); when it does not, the card's link is the way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    InvokeResponse,
)
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams import inbound, render
from bot.adapters.teams.transport import AUDIENCE, CHANNEL, TRANSPORT_ERRORS, patiently
from bot.app import App
from bot.types import Incoming, Reply, SessionKey

log = logging.getLogger("backcheck.teams")


class TeamsAgent:
    """Binds one `App` to the SDK's CloudAdapter: `on_turn` in, connector calls out."""

    def __init__(self, app: App, adapter: object, app_id: str) -> None:
        self.app, self.adapter, self.app_id = app, adapter, app_id

    async def on_turn(self, context: TurnContext) -> None:
        """One activity. Never raises: a failure is logged by type and reported."""
        activity = context.activity
        try:
            async with self.app.in_flight.track():
                await self._on_activity(context, activity)
        except TRANSPORT_ERRORS as exc:
            self._failed(exc, inbound.key_of(activity))
        except Exception as exc:
            log.error("teams activity failed for user %s: %s",
                      inbound.key_of(activity).hashed(), type(exc).__name__, exc_info=exc)
        if activity.type == "invoke":  # Action.Execute wants an answer in the response
            await context.send_activity(Activity(
                type="invokeResponse", value=InvokeResponse(status=200, body={
                    "statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                    "value": ""})))

    async def _on_activity(self, context: TurnContext, activity: Activity) -> None:
        incoming = inbound.incoming(activity)
        if incoming is None:
            return
        if incoming.shared:
            await self._shared(context, incoming)
            return
        pressed = inbound.card_data(activity) is not None
        await self._turn(context, incoming, activity.reply_to_id if pressed else None)

    def _failed(self, exc: Exception, key: SessionKey) -> None:
        status = getattr(exc, "status", "")
        log.warning("teams call failed for user %s: %s %s", key.hashed(), type(exc).__name__,
                    status)
        self.app.report("teams", "rate_limited" if status == 429 else "send")

    async def _turn(self, context: TurnContext, incoming: Incoming,
                    clicked: str | None) -> None:
        """One turn, its replies sent to the personal chat. When sending fails, what the
        App gives after a failed send (where the check stands) is sent instead."""
        replies = await self.app.handle(incoming)
        try:
            await self.send(context, replies, clicked)
        except TRANSPORT_ERRORS as exc:
            self._failed(exc, incoming.key)
            recovered = await self.app.recover(incoming.key, incoming.lang_hint)
            await self.send(context, recovered, None)

    async def send(self, context: TurnContext, replies: Sequence[Reply],
                   clicked: str | None = None) -> None:
        """Send replies to the context's conversation; an "answered" reply updates the
        pressed card (`clicked`, its message id)."""
        for reply in replies:
            if reply.kind == "answered":
                if clicked:
                    await self._update(context, render.answered(reply, clicked))
            elif reply.kind == "stale":
                await self._post(context, render.notice(reply.text))
            elif reply.kind == "redirect":
                await self._post(context, render.redirect(reply, self.app_id))
            elif reply.text or reply.buttons:
                for activity in render.render(reply):
                    await self._post(context, activity)

    async def _post(self, context: TurnContext, activity: Activity) -> None:
        await patiently(lambda: context.send_activity(activity))

    async def _update(self, context: TurnContext, activity: Activity) -> None:
        await patiently(lambda: context.update_activity(activity))

    async def _shared(self, context: TurnContext, incoming: Incoming) -> None:
        """A channel or group chat: the App's answer there (its redirect), then the check
        in the personal chat if Teams lets the bot open it."""
        replies = await self.app.handle(incoming)
        await self.send(context, replies)
        if any(r.kind == "redirect" for r in replies):
            await self._open_personal(context.activity, incoming)

    async def _open_personal(self, activity: Activity, incoming: Incoming) -> None:
        tenant = inbound.tenant_of(activity)
        sender = activity.from_property
        if sender is None or not activity.service_url:
            return
        parameters = ConversationParameters(
            is_group=False, bot=activity.recipient or ChannelAccount(id=f"28:{self.app_id}"),
            tenant_id=tenant,
            members=[ChannelAccount(id=sender.id, aad_object_id=sender.aad_object_id)],
            channel_data={"tenant": {"id": tenant}})

        async def first_question(context: TurnContext) -> None:
            chat = context.activity.conversation.id
            key = SessionKey("teams", tenant, chat, incoming.key.user)
            replies = await self.app.handle(Incoming(key, "start", lang_hint=incoming.lang_hint))
            await self.send(context, replies)

        try:
            await self.adapter.create_conversation(  # type: ignore[attr-defined]
                self.app_id, CHANNEL, activity.service_url, AUDIENCE, parameters,
                first_question)
        except TRANSPORT_ERRORS as exc:  # e.g. 403: the app is not installed for them
            log.info("teams: no personal chat opened for user %s: %s %s",
                     incoming.key.hashed(), type(exc).__name__, getattr(exc, "status", ""))
