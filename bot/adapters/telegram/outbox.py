"""Telegram side of the wellness channels: tips in groups, follow-ups in private chats.

A tip carries a URL button to the private chat (`https://t.me/<bot>?start=check`), so no
check ever happens in the group. A follow-up is rendered like any reply: its command
buttons become callback data that the adapter's button handler already understands.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from telegram import Bot
from telegram.error import TelegramError

from bot.adapters.telegram.render import link_keyboard, messages, private_link
from bot.adapters.telegram.transport import build_application, connect
from bot.app import App
from bot.config import Settings
from bot.errors import DeliveryError
from bot.types import Reply, SessionKey
from bot.wellness.scheduler import Outbox, Scheduler


def chat_id(target: str) -> int | str:
    """A chat id from the settings: a number (-1001234567890) or a public @channelname."""
    return int(target) if target.lstrip("-").isdigit() else target


class TelegramOutbox:
    """Posts through a connected PTB Bot (getMe done, so its username is known)."""

    platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def post_tip(self, target: str, text: str, button: str) -> None:
        markup = link_keyboard(button, private_link(self.bot.username))
        try:
            await self.bot.send_message(chat_id(target), text, reply_markup=markup)
        except TelegramError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc.message}") from exc

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        try:
            for reply in replies:
                for text, markup in messages(reply):
                    await self.bot.send_message(int(key.chat), text, reply_markup=markup)
        except TelegramError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc.message}") from exc


def scheduler(app: App, bot: Bot, *, poll: float = 30.0) -> Scheduler:
    """The wellness scheduler of a running Telegram bot: tips and follow-ups through `bot`."""
    return Scheduler(app, {"telegram": TelegramOutbox(bot)}, poll=poll)


@contextlib.asynccontextmanager
async def connected(app: App, settings: Settings) -> AsyncIterator[Outbox]:
    """A connected outbox outside the running bot (`backcheck tips post`)."""
    # The token's form was checked by Settings; setup_logging keeps httpx, which would log
    # request URLs (and so the token), at WARNING.
    application = build_application(app, settings.get("telegram_bot_token"),
                                    settings.get("telegram_api_base_url"))
    await connect(application)
    try:
        yield TelegramOutbox(application.bot)
    finally:
        await application.shutdown()
