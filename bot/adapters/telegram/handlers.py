"""The handlers python-telegram-bot calls: each turns an update into one `App.handle` call
(inbound.py) and sends the replies (render.py). No policy lives here: what a group gets,
what follows a failed send and which commands exist are the App's.

Updates are processed concurrently across chats and in order within a chat (PTB's
`concurrent_updates` plus one lock per chat).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import commands
from bot.adapters.telegram.flood import FloodWait
from bot.adapters.telegram.inbound import is_shared, session_key, to_incoming
from bot.adapters.telegram.render import MAX_TOAST, messages, shortened
from bot.adapters.telegram.webhook import WebhookServer
from bot.app import App
from bot.i18n import FALLBACK
from bot.types import Reply

log = logging.getLogger("backcheck.telegram")

TgApp = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE
PRIVATE = filters.ChatType.PRIVATE


class TelegramAdapter:
    """The handlers PTB calls, bound to one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.webhook: WebhookServer | None = None  # in webhook mode, once started
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def install(self, application: TgApp) -> None:
        """Register the handlers (first match wins) and the error handler."""
        only_new = filters.UpdateType.MESSAGE
        names = commands.names()
        application.add_handlers([
            CallbackQueryHandler(self.on_button),
            CommandHandler(names, self.on_update, filters=PRIVATE & only_new),
            CommandHandler(names, self.on_update,
                           filters=(~PRIVATE & only_new) | filters.UpdateType.CHANNEL_POST),
            MessageHandler(PRIVATE & only_new & filters.TEXT, self.on_update),
            MessageHandler(PRIVATE & (filters.UpdateType.EDITED_MESSAGE | only_new),
                           self.on_unsupported),
        ])
        application.add_error_handler(self.on_error)

    async def setup(self, application: TgApp) -> None:
        """Register the command menu (bot/commands.py) in every language; the fallback
        language is the menu for everyone else."""
        for lang in self.app.locales.langs:
            menu = [BotCommand(name, text) for name, text in
                    commands.menu(self.app.locales, lang)]
            code = None if lang == FALLBACK else lang
            try:
                await application.bot.set_my_commands(menu, language_code=code)
            except TelegramError as exc:  # a missing menu is no reason not to serve
                log.warning("command menu (%s) not set: %s", lang, type(exc).__name__)

    async def on_update(self, update: Update, context: Context) -> None:
        """A command or text, in a private chat or a shared one."""
        incoming = to_incoming(update, context.bot.id)
        chat = update.effective_chat
        if incoming is None or chat is None:
            return
        async with self._lock(chat.id), self.app.in_flight.track():  # until the replies are sent
            for reply in await self.app.handle(incoming):
                if reply.kind != "answered":  # a typed answer needs no restating
                    await self._send(context, chat.id, reply)

    async def on_unsupported(self, update: Update, context: Context) -> None:
        """Stickers, photos, voice, files and edited messages: ask for a button or a word."""
        key, hint = session_key(update, context.bot.id)
        lang = await self.app.language(key, hint)
        await self._send(context, _message(update).chat_id,
                         Reply("message", self.app.text(lang, "telegram.unsupported")))

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        chat = query.message.chat if query.message else None
        if chat is None:
            await _answer(query, None)
            return
        incoming = to_incoming(update, context.bot.id)
        if incoming is None:  # garbled or forged: the engine's own wording for stale
            key, hint = session_key(update, context.bot.id)
            await _answer(query, self.app.text(await self.app.language(key, hint), "stale"))
            return
        if incoming.shared:
            await _answer(query, None)
        async with self._lock(chat.id), self.app.in_flight.track():
            replies = await self.app.handle(incoming)
            if not incoming.shared:
                stale = [r.text for r in replies if r.kind == "stale"]
                await _answer(query, stale[0] if stale else None)
            for reply in replies:
                if reply.kind == "answered" and isinstance(query.message, Message):
                    await _edit(query.message, reply.text)
                elif reply.kind not in ("answered", "stale"):
                    await self._send(context, chat.id, reply)

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    async def _send(self, context: Context, chat_id: int, reply: Reply) -> None:
        for text, markup in messages(reply, context.bot.username):
            await context.bot.send_message(chat_id, text, reply_markup=markup)

    async def on_error(self, update: object, context: Context) -> None:
        """Log the error's type (never text, answers or user ids), answer a pending button
        press, and in a private chat send what the App gives after a failed send. Best
        effort: never raises."""
        error = type(context.error).__name__
        if isinstance(context.error, TelegramError):  # App.handle's own are counted already
            kind = "rate_limited" if isinstance(context.error, FloodWait | RetryAfter) else "send"
            self.app.report("telegram", kind)
        if not isinstance(update, Update) or update.effective_chat is None:
            log.warning("telegram error outside a chat: %s", error)
            return
        key, hint = session_key(update, context.bot.id)
        log.warning("telegram update failed for user %s: %s", key.hashed(), error)
        try:
            if update.callback_query is not None:
                await _answer(update.callback_query, None)  # in case it failed before that
            if not is_shared(update) and not isinstance(context.error, Forbidden):
                for reply in await self.app.recover(key, hint):
                    await self._send(context, update.effective_chat.id, reply)
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
        await query.answer(None if text is None else shortened(text, MAX_TOAST))
    except TelegramError as exc:
        log.info("callback query not answered: %s", type(exc).__name__)


async def _edit(message: Message, text: str) -> None:
    """Show the chosen answer in the question's message, without its buttons."""
    try:
        await message.edit_text(shortened(text))
    except BadRequest as exc:  # unchanged, too old to edit or deleted: the reply still follows
        if "not modified" not in exc.message.lower():
            log.info("answered question not edited: %s", type(exc).__name__)
