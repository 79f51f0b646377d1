"""`backcheck slack`: run the Slack bot until SIGTERM or SIGINT.

- HTTP mode (SLACK_APP_TOKEN unset): Slack posts to `POST /slack/events` on `--port`
  (default 3000); GET /healthz is served on the same port.
- Socket Mode (SLACK_APP_TOKEN set): no public URL; GET /healthz on `--port` if given.

/metrics only on its own listener (BACKCHECK_METRICS_PORT, or `--metrics-port`; see
bot/ops.py), never on `--port`. On SIGTERM / SIGINT the bot stops taking requests (Socket
Mode disconnects; HTTP answers 503, /healthz says "stopping"), finishes the requests
already acknowledged (their replies sent), closes the store and exits 0
(bot/lifecycle.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot import httpsafe
from bot.adapters.slack import gate
from bot.adapters.slack.bot import SlackBot
from bot.adapters.slack.outbox import scheduler
from bot.adapters.slack.transport import LOGGER, quiet_logger, web_client
from bot.app import App
from bot.compose import build_app
from bot.config import Settings, port
from bot.errors import ConfigError
from bot.lifecycle import run_until_signal, shutdown
from bot.ops import add_ops_routes, metrics_listener_port, start_metrics, start_ops_server
from bot.wellness.scheduler import running

log = logging.getLogger("backcheck.slack")

HTTP_PORT = 3000
EVENTS_PATH = "/slack/events"


def create(app: App, settings: Settings) -> SlackBot:
    """A Bolt AsyncApp talking to SLACK_API_URL, with backcheck's listeners registered."""
    # Bolt configures the logger named after the app like the one it is given: name it
    # after that one, or it would set the level of every `backcheck` logger to WARNING.
    secret = settings.get("slack_signing_secret")
    bolt = AsyncApp(client=web_client(settings), signing_secret=secret,
                    logger=quiet_logger(), name=LOGGER)
    return SlackBot(app, bolt, SignatureVerifier(secret) if secret.strip() else None)


def web_app(bot: SlackBot) -> web.Application:
    """The HTTP endpoint Slack posts commands, interactivity and events to, with GET
    /healthz (no Slack signature needed). Once the bot is
    stopping, Slack's requests get 503: events are sent again later. A request that is
    not signed, a replay, or a body Bolt cannot read never reaches a listener (gate.py)."""

    async def events(request: web.Request) -> web.Response:
        if bot.app.in_flight.stopping:
            return web.Response(status=503)
        refusal = await gate.admit(await request.read(), request.headers, bot.verifier,
                                   bot.app.store)
        if refusal is None:
            try:
                bolt_request = await to_bolt_request(request)
                refusal = gate.readable(bolt_request.body)
            except Exception as exc:  # noqa: BLE001 - whatever Bolt's parser raises
                refusal = gate.Refusal(400, f"unreadable body ({type(exc).__name__})")
        if refusal is not None:
            log.info("slack request refused: %s (%d)", refusal.reason, refusal.status)
            return web.Response(status=refusal.status)
        return await to_aiohttp_response(await bot.bolt.async_dispatch(bolt_request))

    application = httpsafe.application()
    application.router.add_post(EVENTS_PATH, events)
    add_ops_routes(application, bot.app)
    return application


async def start_http(bot: SlackBot, host: str, port: int) -> web.AppRunner:
    """Serve `web_app(bot)` on host:port (0: any free port); the caller cleans up the runner."""
    return await httpsafe.serve(web_app(bot), host, port)


async def start_socket_mode(bot: SlackBot, app_token: str) -> AsyncSocketModeHandler:
    """Connect to Slack over Socket Mode (no public URL); the caller closes the handler."""
    handler = AsyncSocketModeHandler(bot.bolt, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    return handler




def check_settings(settings: Settings) -> None:
    """Fail at start, naming the missing variable."""
    settings.require("SLACK_BOT_TOKEN", "BACKCHECK_SECRET_KEY")
    if not settings.get("slack_app_token"):
        try:
            settings.require("SLACK_SIGNING_SECRET")
        except ConfigError as exc:
            raise ConfigError(f"{exc} (HTTP mode needs it; or set SLACK_APP_TOKEN, xapp-..., "
                              "for Socket Mode)") from None


async def serve(settings: Settings, host: str, port: int | None,
                metrics_port: int | None = None) -> None:
    """Run until SIGINT/SIGTERM: Socket Mode if SLACK_APP_TOKEN is set, else HTTP on `port`
    (default 3000); then stop cleanly. Tips and follow-ups go out from a background task
    meanwhile (bot/wellness/scheduler.py)."""
    socket_mode = bool(settings.get("slack_app_token"))
    public = port if socket_mode else port or HTTP_PORT
    metrics_at = metrics_listener_port(settings, metrics_port, (public,))
    app = build_app(settings)
    bot = create(app, settings)
    servers: list[web.AppRunner] = []
    sockets: list[AsyncSocketModeHandler] = []
    background = contextlib.AsyncExitStack()

    async def begin() -> None:
        if socket_mode:
            sockets.append(await start_socket_mode(bot, settings.get("slack_app_token")))
            log.info("slack: connected in Socket Mode")
            if public:
                servers.append(await start_ops_server(app, host, public, metrics=False))
        else:
            servers.append(await start_http(bot, host, public or HTTP_PORT))
            log.info("slack: listening on http://%s:%d%s", host, public, EVENTS_PATH)
        if (metrics := await start_metrics(app, settings, metrics_at)) is not None:
            servers.append(metrics)
        await background.enter_async_context(running(scheduler(app, bot.client)))

    async def end() -> None:
        await background.aclose()
        app.in_flight.stopping = True  # HTTP requests get 503, /healthz says so
        for socket in sockets:
            await socket.close_async()  # type: ignore[no-untyped-call]
        await shutdown(app, settings.shutdown_timeout, pending=bot.drain())
        for runner in servers:
            await runner.cleanup()

    await run_until_signal(begin, end)


def run(args: argparse.Namespace) -> int:
    """`backcheck slack`: the exit code (ConfigError is reported by the CLI with 2)."""
    settings = Settings.from_env()
    check_settings(settings)
    asyncio.run(serve(settings, args.host, args.port, args.metrics_port))
    return 0


def register(subparsers: Any) -> None:
    """Add `backcheck slack`."""
    parser = subparsers.add_parser(
        "slack", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )
    parser.add_argument("--port", type=port, metavar="N",
                        help=f"HTTP mode: port for /slack/events and /healthz "
                             f"(default {HTTP_PORT}); Socket Mode: port for /healthz")
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--metrics-port", type=port, metavar="N",
                        help="serve /metrics (and /healthz) on BACKCHECK_METRICS_HOST:N "
                             "(default: BACKCHECK_METRICS_PORT; unset: no metrics)")
    parser.set_defaults(handler=run)
