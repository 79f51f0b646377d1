"""`backcheck teams`: run the Teams bot until SIGTERM or SIGINT; `backcheck teams
manifest`: write the app package an admin uploads.

Teams (the Azure Bot Service) posts each activity to `POST /api/messages` on `--port`
(default 3978); GET /healthz is served on the same port, /metrics only on its own
listener (BACKCHECK_METRICS_PORT, bot/ops.py: its counters would tell a person's result). A request
without a valid token gets 401 before its body is read; a body that is no Activity gets
400. On SIGTERM / SIGINT the bot answers 503 (Teams sends again), finishes the turns in
flight, closes the store and exits 0 (bot/lifecycle.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentAuthConfiguration
from pydantic import ValidationError

from bot import httpsafe
from bot.adapters.teams import manifest
from bot.adapters.teams.agent import TeamsAgent
from bot.adapters.teams.outbox import TeamsOutbox, scheduler
from bot.adapters.teams.transport import (
    TRANSPORT_ERRORS,
    auth_configuration,
    check_settings,
    cloud_adapter,
)
from bot.compose import build_app, load_content
from bot.config import Settings, port
from bot.lifecycle import run_until_signal, shutdown
from bot.ops import add_ops_routes, metrics_listener_port, start_metrics
from bot.variables import Bad, http_url
from bot.wellness.scheduler import running

log = logging.getLogger("backcheck.teams")

HTTP_PORT = 3978
MESSAGES_PATH = "/api/messages"


def create(app: Any, settings: Settings) -> tuple[TeamsAgent, CloudAdapter,
                                                  AgentAuthConfiguration]:
    """The agent, the SDK adapter it sends through, and the token check's configuration."""
    config = auth_configuration(settings)
    adapter = cloud_adapter(config)
    return TeamsAgent(app, adapter, settings.get("teams_app_id")), adapter, config


def web_app(agent: TeamsAgent, adapter: CloudAdapter,
            config: AgentAuthConfiguration) -> web.Application:
    """POST /api/messages (token checked by the SDK first) and GET /healthz."""

    @jwt_authorization_decorator  # type: ignore[untyped-decorator]
    async def messages(request: web.Request) -> web.StreamResponse:
        if agent.app.in_flight.stopping:
            return web.Response(status=503)
        try:
            response = await adapter.process(request, agent)
        except ValidationError:
            return web.json_response({"error": "not an Activity"}, status=400)
        except TRANSPORT_ERRORS as exc:  # e.g. no token for the connector: Teams retries
            log.warning("teams request not processed: %s", type(exc).__name__)
            return web.Response(status=503)
        return response if response is not None else web.Response(status=202)

    application = httpsafe.application()
    with warnings.catch_warnings():  # the SDK's decorator looks it up by this plain key
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        application["agent_configuration"] = config
    application.router.add_post(MESSAGES_PATH, messages)
    add_ops_routes(application, agent.app)
    return application


async def start_http(agent: TeamsAgent, adapter: CloudAdapter,
                     config: AgentAuthConfiguration, host: str, port: int) -> web.AppRunner:
    """Serve `web_app` on host:port (0: any free port); the caller cleans up the runner."""
    return await httpsafe.serve(web_app(agent, adapter, config), host, port)


async def serve(settings: Settings, host: str, port: int) -> None:
    """Run until SIGINT/SIGTERM, then stop cleanly; tips and follow-ups go out from a
    background task meanwhile (bot/wellness/scheduler.py)."""
    app = build_app(settings)
    agent, adapter, config = create(app, settings)
    runners: list[web.AppRunner] = []
    background = contextlib.AsyncExitStack()

    metrics_at = metrics_listener_port(settings, None, (port,))

    async def begin() -> None:
        runners.append(await start_http(agent, adapter, config, host, port))
        if (metrics := await start_metrics(app, settings, metrics_at)) is not None:
            runners.append(metrics)
        log.info("teams: listening on http://%s:%d%s", host, port, MESSAGES_PATH)
        outbox = TeamsOutbox(adapter, settings, agent.send)
        await background.enter_async_context(running(scheduler(app, outbox)))

    async def end() -> None:
        await background.aclose()
        app.in_flight.stopping = True
        await shutdown(app, settings.shutdown_timeout)
        for runner in runners:
            await runner.cleanup()

    await run_until_signal(begin, end)


def https_url(raw: str) -> str:
    """An https URL (the manifest accepts no other)."""
    try:
        if http_url(raw).lower().startswith("https://"):
            return raw
    except Bad:
        pass
    raise argparse.ArgumentTypeError(f"{raw!r} is not an https:// URL")


def write_manifest(args: argparse.Namespace) -> int:
    """`backcheck teams manifest`: manifest.json, the icons and the zip into --out."""
    settings = Settings.from_env()
    settings.require("TEAMS_APP_ID")
    _, locales = load_content(settings)
    data = manifest.manifest(
        locales, settings.get("teams_app_id"), version=args.version,
        developer=args.developer, website=args.website,
        privacy=args.privacy_url or args.website, terms=args.terms_url or args.website)
    package = manifest.write(Path(args.out), data)
    print(f"wrote {package} (upload it in the Teams admin center: Manage apps > Upload)")
    return 0


def run(args: argparse.Namespace) -> int:
    """`backcheck teams`: the exit code (ConfigError is reported by the CLI with 2)."""
    settings = Settings.from_env()
    check_settings(settings)
    asyncio.run(serve(settings, args.host, args.port))
    return 0


def register(subparsers: Any) -> None:
    """Add `backcheck teams` and `backcheck teams manifest`."""
    parser = subparsers.add_parser("teams", help="run the Microsoft Teams bot (HTTP on "
                                   f"{MESSAGES_PATH}); `teams manifest` writes its app package")
    parser.add_argument("--port", type=port, metavar="N", default=HTTP_PORT,
                        help=f"port for {MESSAGES_PATH} and /healthz (default {HTTP_PORT}; "
                             "/metrics on BACKCHECK_METRICS_PORT)")
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to listen on (default 0.0.0.0)")
    parser.set_defaults(handler=run)
    sub = parser.add_subparsers(title="subcommands", metavar="")
    man = sub.add_parser("manifest", help="write manifest.json, the icons and the zip to "
                         "upload (needs TEAMS_APP_ID)")
    man.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    man.add_argument("--website", required=True, type=https_url, metavar="URL",
                     help="your page about the bot (https), shown in Teams")
    man.add_argument("--privacy-url", type=https_url, metavar="URL",
                     help="your privacy statement (https; default: --website)")
    man.add_argument("--terms-url", type=https_url, metavar="URL",
                     help="your terms of use (https; default: --website)")
    man.add_argument("--developer", default="backcheck", metavar="NAME",
                     help="the name shown as the app's publisher (default backcheck)")
    man.add_argument("--version", default="1.0.0", metavar="X.Y.Z",
                     help="the app package version; raise it for every upload")
    man.set_defaults(handler=write_manifest)


