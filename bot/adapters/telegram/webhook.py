"""Telegram webhook mode on backcheck's own aiohttp server, so /healthz is served on the
webhook's port (PTB's own webhook server is tornado and serves nothing else).

This is PTB's "custom webhook" pattern: the Application is built without an Updater; a
route at the webhook URL's path checks Telegram's secret token header, reads the update
and puts it on `application.update_queue`, where the Application handles it exactly as
a polled one. At start the server listens first, then registers the URL with setWebhook.

A request without the right secret gets 403, one that is not an update 400 (never a
traceback), and once the bot is stopping every update gets 503, so Telegram delivers it
again later (to this bot once restarted, or another replica).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import httpsafe
from bot.adapters.telegram.updates import readable
from bot.app import App
from bot.errors import ConfigError
from bot.ops import add_ops_routes

log = logging.getLogger("backcheck.telegram")

TgApp = Application[Any, Any, Any, Any, Any, Any]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATES = ["message", "edited_message", "callback_query", "channel_post"]  # what we handle


@dataclass(frozen=True)
class Webhook:
    """Where Telegram delivers updates (the public URL) and where we listen for them."""

    url: str
    secret: str
    port: int
    listen: str = "0.0.0.0"

    @property
    def path(self) -> str:
        """The path the server answers at: the public URL's (a proxy forwards it as is)."""
        return urlparse(self.url).path or "/"


def check_webhook(url: str, secret: str, port: int, listen: str = "0.0.0.0") -> Webhook:
    """Webhook settings, or ConfigError naming the option that is wrong. The secret has
    been checked by `Settings` (TELEGRAM_WEBHOOK_SECRET)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise ConfigError(f"--webhook-url {url!r}: expected https://host/path")
    return Webhook(url, secret, port, listen)


class WebhookServer:
    """Receives Telegram's POSTs for one Application; serves /healthz too (never /metrics:
    this port is public)."""

    def __init__(self, application: TgApp, webhook: Webhook, app: App) -> None:
        self.application, self.webhook, self.app = application, webhook, app
        self.accepting = True
        self.runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        """The routes: POST at the webhook path and GET /healthz."""
        web_app = httpsafe.application()
        web_app.router.add_post(self.webhook.path, self.receive)
        add_ops_routes(web_app, self.app)
        return web_app

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram onto PTB's update queue."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.webhook.secret.encode()):
            return web.Response(status=403)
        if not self.accepting:
            return web.Response(status=503)
        try:
            update = _update(await request.json(), self.application)
        except Exception as exc:  # not JSON, or nothing PTB can make an update of
            log.info("webhook request refused: not an update (%s)", type(exc).__name__)
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response()

    async def start(self) -> None:
        """Listen, then tell Telegram where to deliver (ConfigError if it refuses)."""
        self.runner = await httpsafe.serve(self.web_app(), self.webhook.listen,
                                           self.webhook.port)
        try:
            await self.application.bot.set_webhook(
                self.webhook.url, secret_token=self.webhook.secret,
                allowed_updates=UPDATES)
        except TelegramError as exc:
            raise ConfigError(f"--webhook-url was refused by Telegram: {exc.message}") from exc

    async def close(self) -> None:
        """Stop serving (updates and /healthz alike)."""
        self.accepting = False
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def _update(data: object, application: TgApp) -> Update:
    """The Update in a webhook body. One PTB cannot read becomes an empty update with its
    id (updates.readable), so Telegram does not send it again and again."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("no update_id")
    return Update.de_json(readable(data), application.bot)
