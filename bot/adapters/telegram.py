"""Telegram adapter: Telegram updates -> `App.handle` -> Telegram messages.

python-telegram-bot is the transport only; every turn happens in `App`, which reads the
store on every update, so nothing about a conversation lives in this process. Updates
are processed concurrently across chats and in order within a chat (PTB's
`concurrent_updates` plus one lock per chat). Flood control (HTTP 429) is waited out by
PTB's AIORateLimiter for up to a minute in all (telegram_flood.py), then counted as an error.

Long polling by default, with /healthz and /metrics on `--metrics-port`; with
`--webhook-url` updates arrive on backcheck's own aiohttp server, which serves /healthz
and /metrics on the same port (telegram_webhook.py). On SIGTERM / SIGINT the bot stops
taking updates, finishes the ones it holds (replies sent), closes the store and exits 0.

In groups, supergroups and channels the bot never asks a health question: commands
addressed to it and button presses get a short note with a button that opens a private
chat (`https://t.me/<bot>?start=check`); ordinary chatter is ignored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import weakref
from typing import Any

from aiohttp import web
from telegram import BotCommand, CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.adapters import telegram_wellness
from bot.adapters.telegram_flood import PATIENCE, FloodWait, PatientRateLimiter
from bot.adapters.telegram_render import (
    MAX_TEXT,
    link_keyboard,
    messages,
    parse_callback,
    private_link,
)
from bot.adapters.telegram_updates import ReadableUpdates
from bot.adapters.telegram_webhook import UPDATES, Webhook, WebhookServer, check_webhook
from bot.app import App, build_app
from bot.config import Settings, port
from bot.errors import ConfigError
from bot.lifecycle import in_flight, run_until_signal, shutdown
from bot.ops import record_error, start_ops_server
from bot.review.version import check_signed
from bot.types import Incoming, IncomingKind, Reply, SessionKey
from bot.wellness.scheduler import running

log = logging.getLogger("backcheck.telegram")

TgApp = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE

MENU = ("check", "back", "restart", "stop", "language", "help", "faq", "privacy", "forget")
COMMANDS = ("start", *MENU, "cancel", "summary", "stats")  # stats: wellness leads only
PRIVATE = filters.ChatType.PRIVATE


class TelegramAdapter:
    """The handlers PTB calls; each turns an update into one `App.handle` call."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.webhook: WebhookServer | None = None  # in webhook mode, once started
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def install(self, application: TgApp) -> None:
        """Register the handlers (first match wins) and the error handler."""
        only_new = filters.UpdateType.MESSAGE
        application.add_handlers([
            CallbackQueryHandler(self.on_button),
            CommandHandler(COMMANDS, self.on_command, filters=PRIVATE & only_new),
            CommandHandler(COMMANDS, self.on_group,
                           filters=(~PRIVATE & only_new) | filters.UpdateType.CHANNEL_POST),
            MessageHandler(PRIVATE & only_new & filters.TEXT, self.on_text),
            MessageHandler(PRIVATE & (filters.UpdateType.EDITED_MESSAGE | only_new),
                           self.on_unsupported),
        ])
        application.add_error_handler(self.on_error)

    async def setup(self, application: TgApp) -> None:
        """Register the command menu in English (the default) and Swedish."""
        for lang, code in (("en", None), ("sv", "sv")):
            menu = [BotCommand(c, self.app.text(lang, f"telegram.commands.{c}")) for c in MENU]
            try:
                await application.bot.set_my_commands(menu, language_code=code)
            except TelegramError as exc:  # a missing menu is no reason not to serve
                log.warning("command menu (%s) not set: %s", lang, type(exc).__name__)

    # -- private chats --------------------------------------------------------------------

    async def on_command(self, update: Update, context: Context) -> None:
        message = _message(update)
        name = (message.text or "/").split()[0][1:].split("@")[0].lower()
        kind: IncomingKind = "start" if name in ("start", "check") else "command"
        value = "" if kind == "start" else name
        if name == "language" and context.args:
            value = f"language {context.args[0].lower()}"
        await self._turn(update, context, kind, value)

    async def on_text(self, update: Update, context: Context) -> None:
        await self._turn(update, context, "text", _message(update).text or "")

    async def on_unsupported(self, update: Update, context: Context) -> None:
        """Stickers, photos, voice, files and edited messages: ask for a button or a word."""
        key, hint = self._key(update, context)
        lang = await self.app.language(key, hint)
        await self._send(context, _message(update).chat_id,
                         Reply("message", self.app.text(lang, "telegram.unsupported")))

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        chat = query.message.chat if query.message else None
        if chat is None or chat.type != ChatType.PRIVATE:
            await _answer(query, None)
            if chat is not None:
                await self.on_group(update, context)
            return
        key, hint = self._key(update, context)
        press = parse_callback(query.data)
        if press is None:
            lang = await self.app.language(key, hint)
            await _answer(query, self.app.text(lang, "stale"))  # the engine's own wording
            return
        async with self._lock(chat.id), in_flight(self.app).track():
            replies = await self.app.handle(
                Incoming(key, press.kind, press.value, press.token, hint))
            stale = [r.text for r in replies if r.kind == "stale"]
            await _answer(query, stale[0] if stale else None)
            for reply in replies:
                if reply.kind == "answered" and isinstance(query.message, Message):
                    await _edit(query.message, reply.text)
                elif reply.kind not in ("answered", "stale"):
                    await self._send(context, chat.id, reply)

    async def _turn(self, update: Update, context: Context, kind: IncomingKind,
                    value: str) -> None:
        key, hint = self._key(update, context)
        chat_id = _message(update).chat_id
        async with self._lock(chat_id), in_flight(self.app).track():  # until the replies are sent
            replies = await self.app.handle(Incoming(key, kind, value, None, hint))
            for reply in replies:
                if reply.kind != "answered":  # a typed answer needs no restating
                    await self._send(context, chat_id, reply)

    # -- groups and channels --------------------------------------------------------------

    async def on_group(self, update: Update, context: Context) -> None:
        """Never a health question in a shared chat: offer a private one instead."""
        chat = update.effective_chat
        assert chat is not None
        key, hint = self._key(update, context)
        lang = await self.app.language(key, hint)
        url = private_link(context.bot.username)
        await context.bot.send_message(
            chat.id, self.app.text(lang, "telegram.group"),
            reply_markup=link_keyboard(self.app.text(lang, "telegram.group_button"), url))

    # -- plumbing -------------------------------------------------------------------------

    def _key(self, update: Update, context: Context) -> tuple[SessionKey, str | None]:
        user, chat = update.effective_user, update.effective_chat
        user_id = user.id if user else (chat.id if chat else 0)
        key = SessionKey("telegram", str(context.bot.id), str(chat.id if chat else user_id),
                         str(user_id))
        return key, user.language_code if user else None

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    async def _send(self, context: Context, chat_id: int, reply: Reply) -> None:
        for text, markup in messages(reply):
            await context.bot.send_message(chat_id, text, reply_markup=markup)

    async def on_error(self, update: object, context: Context) -> None:
        """Log the error's type (never text, answers or user ids), answer a pending button
        press and apologise in a private chat. Best effort: never raises."""
        error = type(context.error).__name__
        if isinstance(context.error, TelegramError):  # App.handle's own are counted already
            kind = "rate_limited" if isinstance(context.error, FloodWait | RetryAfter) else "send"
            record_error(self.app, "telegram", kind)
        if not isinstance(update, Update) or update.effective_chat is None:
            log.warning("telegram error outside a chat: %s", error)
            return
        key, hint = self._key(update, context)
        log.warning("telegram update failed for user %s: %s", key.hashed(), error)
        chat = update.effective_chat
        try:
            if update.callback_query is not None:
                await _answer(update.callback_query, None)  # in case it failed before that
            if chat.type == ChatType.PRIVATE and not isinstance(context.error, Forbidden):
                # Show where the check stands: "please try again" could make a person type
                # an answer again, to a question they have not seen.
                replies = await self.app.handle(Incoming(key, "command", "current",
                                                         lang_hint=hint))
                for reply in replies:
                    await self._send(context, chat.id, reply)
        except Exception as exc:  # the apology is best effort
            log.warning("could not apologise to user %s: %s", key.hashed(), type(exc).__name__)


def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


async def _answer(query: CallbackQuery, text: str | None) -> None:
    """Answer a callback query. A query too old to answer, or a failed answer, must not
    stop the replies that follow it."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("callback query not answered: %s", type(exc).__name__)


async def _edit(message: Message, text: str) -> None:
    """Show the chosen answer in the question's message, without its buttons."""
    try:
        await message.edit_text(text[:MAX_TEXT])
    except BadRequest as exc:  # unchanged, too old to edit or deleted: the reply still follows
        if "not modified" not in exc.message.lower():
            log.info("answered question not edited: %s", type(exc).__name__)


_ADAPTERS: weakref.WeakKeyDictionary[TgApp, TelegramAdapter] = weakref.WeakKeyDictionary()


def build_application(app: App, token: str, base_url: str, *, polling: bool = True,
                      max_retries: int | None = None, patience: float = PATIENCE) -> TgApp:
    """A PTB Application wired to `app`, talking to the Bot API at `base_url`. Without
    `polling` it has no Updater: updates arrive through our webhook server instead.
    A 429 is waited out for up to `patience` s in all (`max_retries` caps the tries)."""
    adapter = TelegramAdapter(app)
    base = base_url.rstrip("/")
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
    limiter = (PatientRateLimiter(patience) if max_retries is None
               else PatientRateLimiter(patience, max_retries))
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_base)
        .get_updates_request(ReadableUpdates(connection_pool_size=1))  # PTB's default size
        .rate_limiter(limiter)
        .concurrent_updates(True)
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(adapter.setup)
    )
    application = (builder if polling else builder.updater(None)).build()
    adapter.install(application)
    _ADAPTERS[application] = adapter
    return application


async def connect(application: TgApp) -> None:
    """Connect (getMe), or ConfigError naming the token or the API URL."""
    try:
        await application.initialize()
    except InvalidToken as exc:
        raise ConfigError("TELEGRAM_BOT_TOKEN was rejected by Telegram (Unauthorized)") from exc
    except NetworkError as exc:
        raise ConfigError("cannot reach the Telegram Bot API (check the network and "
                          f"TELEGRAM_API_BASE_URL): {type(exc).__name__}") from exc


async def start(application: TgApp, webhook: Webhook | None = None,
                poll_timeout: float = 30.0) -> None:
    """Connect (getMe), register the command menu, and start receiving updates: long
    polling, or the webhook server (with /healthz and /metrics) and setWebhook."""
    await connect(application)
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    if webhook is None:
        updater = application.updater
        assert updater is not None, "built without polling: start it with a webhook"
        await updater.start_polling(timeout=dt.timedelta(seconds=poll_timeout),
                                    allowed_updates=UPDATES, error_callback=_polling_error)
        return
    adapter = _ADAPTERS[application]
    adapter.webhook = WebhookServer(application, webhook, adapter.app)
    await adapter.webhook.start()


async def stop_receiving(application: TgApp) -> None:
    """Take no more updates: end polling, or answer webhook POSTs with 503 (Telegram
    sends them again later). The webhook server keeps serving /healthz meanwhile."""
    adapter = _ADAPTERS.get(application)
    if adapter is not None and adapter.webhook is not None:
        adapter.webhook.accepting = False
    if application.updater is not None and application.updater.running:
        await application.updater.stop()


async def stop(application: TgApp) -> None:
    """Stop receiving, finish the updates in hand, disconnect, close the webhook server."""
    await stop_receiving(application)
    if application.running:
        await application.stop()
    await application.shutdown()
    adapter = _ADAPTERS.get(application)
    if adapter is not None and adapter.webhook is not None:
        await adapter.webhook.close()
        adapter.webhook = None


def _polling_error(exc: TelegramError) -> None:
    log.warning("polling failed, retrying: %s", type(exc).__name__)


async def serve(app: App, settings: Settings, webhook: Webhook | None,
                metrics_port: int | None = None) -> None:
    """Run until SIGINT or SIGTERM, then stop taking updates, finish the ones in hand and
    close the store (bot/lifecycle.py). /healthz and /metrics on `metrics_port` (and on
    the webhook's port); tips and follow-ups go out from a background task meanwhile."""
    application = build_application(app, settings.telegram_bot_token,
                                    settings.telegram_api_base_url, polling=webhook is None)
    ops: list[web.AppRunner] = []
    background = contextlib.AsyncExitStack()

    async def begin() -> None:
        await start(application, webhook)
        if metrics_port and (webhook is None or metrics_port != webhook.port):
            ops.append(await start_ops_server(app, "0.0.0.0", metrics_port))
        log.info("telegram bot @%s running (%s)", application.bot.username,
                 "webhook" if webhook else "long polling")
        await background.enter_async_context(
            running(telegram_wellness.scheduler(app, application.bot)))

    async def end() -> None:
        await background.aclose()
        in_flight(app).stopping = True  # /healthz says so from now on
        await stop_receiving(application)
        # PTB's queued and running updates, replies included, then the store
        await shutdown(app, settings.shutdown_timeout,
                       pending=application.stop() if application.running else None)
        await stop(application)
        for runner in ops:
            await runner.cleanup()

    await run_until_signal(begin, end)


def run(args: argparse.Namespace) -> int:
    """`backcheck telegram`: the exit code (ConfigError is reported by the CLI with 2)."""
    settings = Settings.from_env()  # checks the token's and the secret's form
    settings.require("TELEGRAM_BOT_TOKEN")
    check_signed(settings)  # refuse content nobody signed off (BACKCHECK_SIGNED_VERSION)
    webhook = None
    if args.webhook_url:
        settings.require("TELEGRAM_WEBHOOK_SECRET")
        webhook = check_webhook(args.webhook_url, settings.telegram_webhook_secret, args.port)
    asyncio.run(serve(build_app(settings), settings, webhook, args.metrics_port))
    return 0


def register(subparsers: Any) -> None:
    """Add `backcheck telegram` to the CLI."""
    parser = subparsers.add_parser(
        "telegram", help="run the Telegram bot (long polling, or a webhook with --webhook-url)")
    parser.add_argument("--webhook-url", metavar="URL",
                        help="public HTTPS URL Telegram posts updates to; needs "
                             "TELEGRAM_WEBHOOK_SECRET")
    parser.add_argument("--port", type=port, default=8443,
                        help="port to listen on (0.0.0.0) in webhook mode, also for /healthz "
                             "and /metrics (default 8443)")
    parser.add_argument("--metrics-port", type=port, metavar="N",
                        help="serve /healthz and /metrics on 0.0.0.0:N (for long polling; "
                             "in webhook mode they are on --port anyway)")
    parser.set_defaults(handler=run)
