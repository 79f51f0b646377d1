"""The Telegram transport: a python-telegram-bot Application wired to an App, talking to
the Bot API at TELEGRAM_API_BASE_URL, with 429s waited out (flood.py) and updates PTB
cannot read skipped (updates.py)."""

from __future__ import annotations

import weakref
from typing import Any

from telegram import LinkPreviewOptions
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.adapters.telegram.flood import PATIENCE, PatientRateLimiter
from bot.adapters.telegram.handlers import TelegramAdapter
from bot.adapters.telegram.updates import ReadableUpdates
from bot.app import App
from bot.errors import ConfigError

TgApp = Application[Any, Any, Any, Any, Any, Any]

ADAPTERS: weakref.WeakKeyDictionary[TgApp, TelegramAdapter] = weakref.WeakKeyDictionary()


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
    ADAPTERS[application] = adapter
    return application


async def connect(application: TgApp) -> None:
    """Connect (getMe), or ConfigError naming the token or the API URL (the connections
    opened for the attempt are closed again)."""
    try:
        await application.initialize()
    except InvalidToken as exc:
        await application.bot.shutdown()
        raise ConfigError("TELEGRAM_BOT_TOKEN was rejected by Telegram (Unauthorized)") from exc
    except NetworkError as exc:
        await application.bot.shutdown()
        raise ConfigError("cannot reach the Telegram Bot API (check the network and "
                          f"TELEGRAM_API_BASE_URL): {type(exc).__name__}") from exc



