"""The Bolt listeners: Slack requests -> `Incoming` (inbound.py), `Reply` -> Block Kit
(render.py). Translation only; the conversation and every policy are the App's.

Every request is acknowledged first and worked on afterwards, so Slack always gets its
answer within 3 seconds. The check always lives in the direct message (DM) with the
person: `/backcheck` in a channel only answers, ephemerally, that a DM has been sent.
Socket Mode when SLACK_APP_TOKEN is set, else HTTP on `POST /slack/events`, with GET
/healthz on the same server; `backcheck slack` itself (both modes,
graceful shutdown) is serve.py, the Web API client transport.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import inbound
from bot.adapters.slack import render as kit
from bot.adapters.slack.cache import TTLCache
from bot.adapters.slack.inbound import Body, part, team_of, who
from bot.adapters.slack.transport import TRANSPORT_ERRORS
from bot.app import App
from bot.types import Incoming, Reply, SessionKey

log = logging.getLogger("backcheck.slack")

COMMAND = "/backcheck"

Work = Callable[[Body, AsyncRespond], Coroutine[Any, Any, None]]


class SlackBot:
    """Binds one `App` to one Bolt `AsyncApp`: listeners in, Web API calls out."""

    def __init__(self, app: App, bolt: AsyncApp,
                 verifier: SignatureVerifier | None = None) -> None:
        self.app, self.bolt = app, bolt
        self.verifier = verifier  # HTTP mode: checks requests before Bolt sees them (gate.py)
        self.client: AsyncWebClient = bolt.client
        self._locales: TTLCache[str] = TTLCache(ttl=600)
        self._dms: TTLCache[str] = TTLCache(ttl=3600)
        self._events: TTLCache[bool] = TTLCache(ttl=3600)
        self._tasks: set[asyncio.Task[None]] = set()
        self._register()

    def _register(self) -> None:
        b = self.bolt
        b.use(self._skip_duplicates)
        b.command(COMMAND)(self._later(self._command))
        buttons = rf"^({kit.ANSWER_PREFIX}\d+|{kit.COMMAND_PREFIX}\d+|{kit.HOME_LANG_PREFIX}\w+)$"
        b.action(re.compile(buttons))(self._later(self._button))
        b.action(kit.START_ACTION)(self._later(self._start))
        b.event("app_home_opened")(self._on_home)
        b.event("message")(self._on_message)
        # Anything else (unknown, forged, not subscribed): 200 and nothing more, so Slack
        # neither shows an error nor retries. Bolt's own default would be 404.
        anything = re.compile(".*")
        b.action(anything)(self._ack_only)
        b.shortcut(anything)(self._ack_only)
        b.view(anything)(self._ack_only)
        b.event(anything)(self._ack_only)

    # -- work after the ack ------------------------------------------------------------

    def _later(self, work: Work) -> Callable[..., Awaitable[None]]:
        """A listener that acknowledges at once and does `work` after the ack."""

        async def listener(ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
            await ack()
            user = body.get("user_id") or part(body, "user").get("id")
            if not user:  # nobody to answer (Slack always says who)
                log.info("slack request without a user ignored")
                return
            self._spawn(work(body, respond), who(team_of(body), str(user)))

        return listener

    def _spawn(self, work: Coroutine[Any, Any, None], who: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, who))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], who: str) -> None:
        """Run one request's work, counted as in flight until its replies are sent."""
        try:
            async with self.app.in_flight.track():
                await work
        except TRANSPORT_ERRORS as exc:
            self._failed(exc, who)
        except Exception as exc:
            log.error("slack request failed for user %s: %s", who, type(exc).__name__,
                      exc_info=exc)

    def _failed(self, exc: Exception, who: str) -> None:
        """Log a failed Web API call by type and code, and report it to the App."""
        code = exc.response.get("error") if isinstance(exc, SlackApiError) else ""
        log.warning("slack call failed for user %s: %s %s", who, type(exc).__name__, code)
        self.app.report("slack", "rate_limited" if code == "ratelimited" else "send")

    async def drain(self) -> None:
        """Wait for every acknowledged request's work to finish (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    # -- Slack lookups -----------------------------------------------------------------

    async def locale(self, team: str, user: str) -> str | None:
        """The person's Slack locale (e.g. "sv-SE"), cached; None if Slack won't say."""
        cached = self._locales.get(f"{team}:{user}")
        if cached is not None:
            return cached or None
        try:
            resp = await self.client.users_info(user=user, include_locale=True)
            profile = resp.get("user")
            locale = str(profile.get("locale") or "") if isinstance(profile, dict) else ""
        except TRANSPORT_ERRORS as exc:
            log.warning("users.info failed for user %s: %s", who(team, user), type(exc).__name__)
            locale = ""
        self._locales.put(f"{team}:{user}", locale)
        return locale or None

    async def _open(self, team: str, user: str) -> tuple[SessionKey, str | None]:
        """The session key (the person's DM with the bot) and their locale hint."""
        hint = await self.locale(team, user)
        dm = self._dms.get(f"{team}:{user}")
        if dm is None:
            resp = await self.client.conversations_open(users=user)
            dm = str(resp["channel"]["id"])
            self._dms.put(f"{team}:{user}", dm)
        return SessionKey("slack", team, dm, user), hint

    # -- sending -----------------------------------------------------------------------

    async def _turn(self, incoming: Incoming, clicked_ts: str | None = None) -> None:
        """One turn, its replies sent to the person's DM. When sending fails, what the App
        gives after a failed send (where the check stands) is sent instead."""
        replies = await self.app.handle(incoming)
        try:
            await self._send(incoming.key, replies, clicked_ts)
        except TRANSPORT_ERRORS as exc:
            self._failed(exc, incoming.key.hashed())
            recovered = await self.app.recover(incoming.key, incoming.lang_hint)
            await self._send(incoming.key, recovered, None)

    async def _elsewhere(self, incoming: Incoming, dm: SessionKey,
                         respond: AsyncRespond | None) -> None:
        """Something asked outside the person's DM: the App decides. A redirect means the
        check belongs in private, which Slack can open itself: the same request goes on
        in the DM and the App's notice is shown, only to them, where they asked."""
        for reply in await self.app.handle(incoming):
            if reply.kind == "redirect":
                await self._turn(Incoming(dm, incoming.kind, incoming.value,
                                          lang_hint=incoming.lang_hint))
            if respond is not None:
                for payload in kit.render(reply):
                    await respond(**payload, response_type="ephemeral", replace_original=False)

    async def _send(self, key: SessionKey, replies: list[Reply], clicked_ts: str | None) -> None:
        for reply in replies:
            if reply.kind == "answered":
                if clicked_ts is not None:
                    await self.client.chat_update(
                        channel=key.chat, ts=clicked_ts, **kit.answered(reply)
                    )
            elif reply.kind == "stale":
                await self.client.chat_postEphemeral(
                    channel=key.chat, user=key.user, text=kit.escape(reply.text)
                )
            elif reply.text or reply.buttons:
                for payload in kit.render(reply):
                    await self.client.chat_postMessage(channel=key.chat, **payload)

    async def publish_home(self, team: str, user: str, notice: str = "") -> None:
        """Publish the App Home tab in the person's language."""
        key, hint = await self._open(team, user)
        view = kit.home_view(await self.app.home(key, hint, notice))
        await self.client.views_publish(user_id=user, view=view)

    # -- listeners: ack first, then the work -------------------------------------------

    async def _ack_only(self, ack: AsyncAck) -> None:
        await ack()

    async def _skip_duplicates(
        self, body: Body, request: Any, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Acknowledge, without processing again, an event Slack has already delivered."""
        if body.get("type") == "event_callback" and self._seen(body, request.headers):
            return BoltResponse(status=200, body="")
        await next()
        return None

    def _seen(self, body: Body, headers: dict[str, list[str]]) -> bool:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id:
            if self._events.get(event_id):
                return True
            self._events.put(event_id, True)
        # A retry after a timeout means the first delivery reached a replica: it is handled.
        retried = bool(headers.get("x-slack-retry-num"))
        return retried and headers.get("x-slack-retry-reason", [""])[0] == "http_timeout"

    async def _command(self, body: Body, respond: AsyncRespond) -> None:
        team, user = team_of(body), str(body["user_id"])
        channel = str(body.get("channel_id") or "")
        kind, value = inbound.subcommand(str(body.get("text") or ""), self.app.locales)
        if inbound.in_place(value):  # e.g. stats: answered where asked, no DM opened
            hint = await self.locale(team, user)
            here = SessionKey("slack", team, channel, user)
            await self._elsewhere(Incoming(here, kind, value, lang_hint=hint, shared=True),
                                  here, respond)
            return
        try:
            key, hint = await self._open(team, user)
        except TRANSPORT_ERRORS:
            hint = await self.locale(team, user)
            lang = await self.app.language(SessionKey("slack", team, "", user), hint)
            await respond(text=kit.escape(self.app.text(lang, "slack.dm_failed")),
                          response_type="ephemeral")
            raise
        if key.chat == channel:
            await self._turn(Incoming(key, kind, value, lang_hint=hint))
            return
        here = SessionKey("slack", team, channel, user)
        await self._elsewhere(Incoming(here, kind, value, lang_hint=hint, shared=True), key,
                              respond)

    async def _button(self, body: Body, respond: AsyncRespond) -> None:
        """An answer or command button. A value that does not parse is forged: ignored."""
        team, user = team_of(body), str(body["user"]["id"])
        if inbound.button(body, SessionKey("slack", team, "", user)) is None:
            return
        key, hint = await self._open(team, user)
        press = inbound.button(body, key, hint)
        assert press is not None
        channel = part(body, "channel").get("id")
        ts = part(body, "container").get("message_ts")
        clicked = str(ts) if ts and channel == key.chat else None
        await self._turn(press, clicked)
        if part(body, "container").get("type") == "view":
            await self.publish_home(team, user)

    async def _start(self, body: Body, respond: AsyncRespond) -> None:
        team, user = team_of(body), str(body["user"]["id"])
        key, hint = await self._open(team, user)
        channel = part(body, "channel").get("id")
        if part(body, "container").get("type") == "view":
            await self._turn(Incoming(key, "start", lang_hint=hint))
            await self.publish_home(team, user, notice="slack.home_started")
        elif channel and channel != key.chat:  # a tip's button in a channel
            here = SessionKey("slack", team, str(channel), user)
            await self._elsewhere(Incoming(here, "start", lang_hint=hint, shared=True), key,
                                  respond if body.get("response_url") else None)
        else:
            await self._turn(Incoming(key, "start", lang_hint=hint))

    async def _on_home(self, body: Body, event: Body) -> None:
        if event.get("tab") == "home" and event.get("user"):
            team, user = team_of(body), str(event["user"])
            self._spawn(self.publish_home(team, user), who(team, user))

    async def _on_message(self, body: Body, event: Body) -> None:
        """A typed answer in the DM (inbound.typed says which messages are)."""
        incoming = inbound.typed(body, event)
        if incoming is not None:
            self._spawn(self._typed(incoming.key, incoming.value), incoming.key.hashed())

    async def _typed(self, key: SessionKey, text: str) -> None:
        hint = await self.locale(key.workspace, key.user)
        await self._turn(Incoming(key, "text", text, lang_hint=hint))
