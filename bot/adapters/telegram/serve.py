"""`backcheck telegram`: build the python-telegram-bot Application for an App, start and
stop it, and serve until SIGTERM / SIGINT.

python-telegram-bot is the transport only; every turn happens in `App`, which reads the
store on every update, so nothing about a conversation lives in this process. Flood
control (HTTP 429) is waited out by PTB's AIORateLimiter for up to a minute in all
(flood.py), then counted as an error.

Long polling by default; with `--webhook-url` updates arrive on backcheck's own aiohttp
server, which serves /healthz on the same port (webhook.py). /metrics (and /healthz) only
on its own listener: BACKCHECK_METRICS_PORT or `--metrics-port` (bot/ops.py). On SIGTERM /
SIGINT the bot stops taking updates, finishes the ones it holds (replies sent), closes the
store and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from aiohttp import web
from telegram.error import TelegramError
from telegram.ext import Application

from bot.adapters.telegram.outbox import scheduler
from bot.adapters.telegram.transport import ADAPTERS, build_application, connect
from bot.adapters.telegram.webhook import UPDATES, Webhook, WebhookServer, check_webhook
from bot.app import App
from bot.compose import build_app
from bot.config import Settings, port
from bot.lifecycle import run_until_signal, shutdown
from bot.ops import metrics_listener_port, start_metrics
from bot.wellness.scheduler import running

log = logging.getLogger("backcheck.telegram")

TgApp = Application[Any, Any, Any, Any, Any, Any]

async def start(application: TgApp, webhook: Webhook | None = None,
                poll_timeout: float = 30.0) -> None:
    """Connect (getMe), register the command menu, and start receiving updates: long
    polling, or the webhook server (with /healthz) and setWebhook."""
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
    adapter = ADAPTERS[application]
    adapter.webhook = WebhookServer(application, webhook, adapter.app)
    await adapter.webhook.start()


async def stop_receiving(application: TgApp) -> None:
    """Take no more updates: end polling, or answer webhook POSTs with 503 (Telegram
    sends them again later). The webhook server keeps serving /healthz meanwhile."""
    adapter = ADAPTERS.get(application)
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
    adapter = ADAPTERS.get(application)
    if adapter is not None and adapter.webhook is not None:
        await adapter.webhook.close()
        adapter.webhook = None


def _polling_error(exc: TelegramError) -> None:
    log.warning("polling failed, retrying: %s", type(exc).__name__)


async def serve(app: App, settings: Settings, webhook: Webhook | None,
                metrics_port: int | None = None) -> None:
    """Run until SIGINT or SIGTERM, then stop taking updates, finish the ones in hand and
    close the store (bot/lifecycle.py). /metrics and /healthz on `metrics_port` (else
    BACKCHECK_METRICS_PORT), /healthz on the webhook's port too; tips and follow-ups go
    out from a background task meanwhile."""
    metrics_at = metrics_listener_port(settings, metrics_port,
                                       (webhook.port if webhook else None,))
    application = build_application(app, settings.get("telegram_bot_token"),
                                    settings.get("telegram_api_base_url"),
                                    polling=webhook is None)
    ops: list[web.AppRunner] = []
    background = contextlib.AsyncExitStack()

    async def begin() -> None:
        await start(application, webhook)
        if (metrics := await start_metrics(app, settings, metrics_at)) is not None:
            ops.append(metrics)
        log.info("telegram bot @%s running (%s)", application.bot.username,
                 "webhook" if webhook else "long polling")
        await background.enter_async_context(running(scheduler(app, application.bot)))

    async def end() -> None:
        await background.aclose()
        app.in_flight.stopping = True  # /healthz says so from now on
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
    settings.require("TELEGRAM_BOT_TOKEN", "BACKCHECK_SECRET_KEY")
    webhook = None
    if args.webhook_url:
        settings.require("TELEGRAM_WEBHOOK_SECRET")
        webhook = check_webhook(args.webhook_url, settings.get("telegram_webhook_secret"),
                                args.port, args.host)
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
                        help="port to listen on in webhook mode, also for /healthz "
                             "(default 8443)")
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to listen on in webhook mode (default 0.0.0.0)")
    parser.add_argument("--metrics-port", type=port, metavar="N",
                        help="serve /metrics (and /healthz) on BACKCHECK_METRICS_HOST:N "
                             "(default: BACKCHECK_METRICS_PORT; unset: no metrics)")
    parser.set_defaults(handler=run)
