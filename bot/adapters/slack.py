"""Slack adapter: Slack requests -> `Incoming`, `Reply` -> Block Kit messages. Render and
transport only; the conversation itself happens in `App.handle`.

Every request is acknowledged first and worked on afterwards, so Slack always gets its
answer within 3 seconds. The check always lives in the direct message (DM) with the
person: `/backcheck` in a channel only answers, ephemerally, that a DM has been sent.
Socket Mode when SLACK_APP_TOKEN is set, else HTTP on `POST /slack/events`, with GET
/healthz and GET /metrics on the same server; `backcheck slack` itself (both modes,
graceful shutdown) is bot/adapters/slack_serve.py, the Web API client slack_transport.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import httpsafe
from bot.adapters import slack_blocks as kit
from bot.adapters import slack_wellness
from bot.adapters.cache import TTLCache
from bot.adapters.slack_transport import LOGGER, TRANSPORT_ERRORS, quiet_logger, web_client
from bot.app import App
from bot.config import Settings
from bot.engine.machine import parse_command
from bot.i18n import Locales
from bot.lifecycle import in_flight
from bot.ops import add_ops_routes, record_error
from bot.types import Incoming, IncomingKind, Reply, SessionKey

log = logging.getLogger("backcheck.slack")

COMMAND = "/backcheck"
EVENTS_PATH = "/slack/events"

Body = dict[str, Any]
# A subcommand answered by the adapter itself (before any DM is opened), e.g. `stats`
# for wellness leads (SPEC 7, bot/adapters/slack_wellness.py): `bot.subcommands[name]`.
Subcommand = Callable[["SlackBot", Body, AsyncRespond], Awaitable[None]]
Work = Callable[[Body, AsyncRespond], Coroutine[Any, Any, None]]


def parse_subcommand(text: str, locales: Locales) -> tuple[IncomingKind, str]:
    """What `/backcheck <text>` asks for, in any language ("help", "lang sv", "glöm mig"):
    nothing starts a check; words that are no command get the help text."""
    if not text.strip():
        return "start", ""
    command = parse_command(text, locales)
    if command == "start":
        return "start", ""
    return "command", command or "help"


def _team(body: Body) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or body.get("user", {}).get("team_id") or "")


def _who(team: str, user: str) -> str:
    return SessionKey("slack", team, "", user).hashed()


class SlackBot:
    """Binds one `App` to one Bolt `AsyncApp`: listeners in, Web API calls out."""

    def __init__(self, app: App, bolt: AsyncApp) -> None:
        self.app, self.bolt = app, bolt
        self.client: AsyncWebClient = bolt.client
        self.subcommands: dict[str, Subcommand] = {}
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
            user = body.get("user_id") or body.get("user", {}).get("id")
            self._spawn(work(body, respond), _who(_team(body), str(user)))

        return listener

    def _spawn(self, work: Coroutine[Any, Any, None], who: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, who))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], who: str) -> None:
        """Run one request's work, counted as in flight until its replies are sent."""
        try:
            async with in_flight(self.app).track():
                await work
        except TRANSPORT_ERRORS as exc:
            code = exc.response.get("error") if isinstance(exc, SlackApiError) else ""
            log.warning("slack call failed for user %s: %s %s", who, type(exc).__name__, code)
            record_error(self.app, "slack", "rate_limited" if code == "ratelimited" else "send")
        except Exception as exc:
            log.error("slack request failed for user %s: %s", who, type(exc).__name__,
                      exc_info=exc)

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
            log.warning("users.info failed for user %s: %s", _who(team, user), type(exc).__name__)
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
        """One engine turn, its replies sent to the person's DM."""
        replies = await self.app.handle(incoming)
        await self._send(incoming.key, replies, clicked_ts)

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

    async def _notice(self, respond: AsyncRespond, key: SessionKey, hint: str | None) -> None:
        """Tell the person, only them, that the check goes on in their DM."""
        lang = await self.app.language(key, hint)
        await respond(text=kit.escape(self.app.text(lang, "slack.sent_dm")),
                      response_type="ephemeral", replace_original=False)

    async def publish_home(self, team: str, user: str, notice: str = "") -> None:
        """Publish the App Home tab in the person's language."""
        key, hint = await self._open(team, user)
        lang = await self.app.language(key, hint)
        t = self.app.text
        view = kit.home_view(
            title=t(lang, "slack.home_title"), intro=t(lang, "slack.home_intro"),
            start=t(lang, "slack.home_start"), language=t(lang, "slack.home_language"),
            langs=[(code, t(lang, f"slack.lang_{code}")) for code in self.app.locales.langs],
            privacy=t(lang, "slack.home_privacy"),
            notice=t(lang, notice) if notice else "",
        )
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
        team, user = _team(body), str(body["user_id"])
        text = str(body.get("text") or "")
        words = text.split()
        own = self.subcommands.get(words[0].lower()) if words else None  # e.g. stats
        if own is not None:
            await own(self, body, respond)
            return
        try:
            key, hint = await self._open(team, user)
        except TRANSPORT_ERRORS:
            hint = await self.locale(team, user)
            lang = await self.app.language(SessionKey("slack", team, "", user), hint)
            await respond(text=kit.escape(self.app.text(lang, "slack.dm_failed")),
                          response_type="ephemeral")
            raise
        kind, value = parse_subcommand(text, self.app.locales)
        await self._turn(Incoming(key, kind, value, lang_hint=hint))
        if key.chat != body.get("channel_id"):
            await self._notice(respond, key, hint)

    async def _button(self, body: Body, respond: AsyncRespond) -> None:
        """An answer or command button. A value that does not parse is forged: ignored."""
        action = body.get("actions", [{}])[0]
        parsed = kit.parse_value(action.get("value"))
        if parsed is None:
            return
        answer = str(action.get("action_id")).startswith(kit.ANSWER_PREFIX)
        team, user = _team(body), str(body["user"]["id"])
        key, hint = await self._open(team, user)
        channel = _part(body, "channel").get("id")
        ts = _part(body, "container").get("message_ts")
        clicked = str(ts) if ts and channel == key.chat else None
        token, value = parsed
        kind: IncomingKind = "answer" if answer else "command"
        await self._turn(Incoming(key, kind, value, token=token, lang_hint=hint), clicked)
        if _part(body, "container").get("type") == "view":
            await self.publish_home(team, user)

    async def _start(self, body: Body, respond: AsyncRespond) -> None:
        team, user = _team(body), str(body["user"]["id"])
        key, hint = await self._open(team, user)
        await self._turn(Incoming(key, "start", lang_hint=hint))
        if _part(body, "container").get("type") == "view":
            await self.publish_home(team, user, notice="slack.home_started")
        elif _part(body, "channel").get("id") != key.chat and body.get("response_url"):
            await self._notice(respond, key, hint)

    async def _on_home(self, body: Body, event: Body) -> None:
        if event.get("tab") == "home" and event.get("user"):
            team, user = _team(body), str(event["user"])
            self._spawn(self.publish_home(team, user), _who(team, user))

    async def _on_message(self, body: Body, event: Body) -> None:
        """A typed answer in the DM. Only people's own plain messages: no edits, joins,
        bots (our own messages included)."""
        if (event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id")
                or not event.get("user") or not isinstance(event.get("text"), str)):
            return
        team = _team(body) or str(event.get("team") or "")
        key = SessionKey("slack", team, str(event["channel"]), str(event["user"]))
        self._spawn(self._typed(key, event["text"]), key.hashed())

    async def _typed(self, key: SessionKey, text: str) -> None:
        hint = await self.locale(key.workspace, key.user)
        await self._turn(Incoming(key, "text", text, lang_hint=hint))


# -- wiring --------------------------------------------------------------------------------


def create(app: App, settings: Settings) -> SlackBot:
    """A Bolt AsyncApp talking to SLACK_API_URL, with backcheck's listeners registered."""
    # Bolt configures the logger named after the app like the one it is given: name it
    # after that one, or it would set the level of every `backcheck` logger to WARNING.
    bolt = AsyncApp(client=web_client(settings), signing_secret=settings.slack_signing_secret,
                    logger=quiet_logger(), name=LOGGER)
    bot = SlackBot(app, bolt)
    slack_wellness.install(bot)  # /backcheck stats
    return bot


def web_app(bot: SlackBot) -> web.Application:
    """The HTTP endpoint Slack posts commands, interactivity and events to, with GET
    /healthz and GET /metrics (no Slack signature needed for those). Once the bot is
    stopping, Slack's requests get 503: events are sent again later."""

    async def events(request: web.Request) -> web.Response:
        if in_flight(bot.app).stopping:
            return web.Response(status=503)
        response = await bot.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    application = httpsafe.application()
    application.router.add_post(EVENTS_PATH, events)
    add_ops_routes(application, bot.app)
    return application


async def start_http(bot: SlackBot, host: str, port: int) -> web.AppRunner:
    """Serve `web_app(bot)` on host:port (0: any free port); the caller cleans up the runner."""
    runner = httpsafe.runner(web_app(bot))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def start_socket_mode(bot: SlackBot, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over Socket Mode (no public URL); the caller closes the handler."""
    handler = AsyncSocketModeHandler(bot.bolt, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    return handler


def _part(body: Body, name: str) -> Body:
    """A sub-object of a payload, or {} when Slack (or a forger) left it out or null."""
    value = body.get(name)
    return value if isinstance(value, dict) else {}
