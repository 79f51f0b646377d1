"""`backcheck web --port N`: the chat page, the widget script, the JSON API, health.

    GET  /             the chat page (static/index.html; ?lang=sv, ?embed=1 in the widget)
    GET  /app.js /app.css /widget.js
    GET  /api/state    where the check stands (a new visitor: the intro and question 1)
    POST /api/turn     one turn in, the replies out (bot/adapters/web/inbound.py, render.py)
    GET  /api/ui       the page's words in one language (the widget's button label)
    GET  /healthz

The session is an anonymous random id: an HttpOnly SameSite=Strict cookie on the bot's
own page, or the `X-Backcheck-Session` header that the page inside the widget's iframe
holds (a cookie there would be a third-party cookie). Only BACKCHECK_WEB_ORIGINS may frame
the page (CSP frame-ancestors) or call the API from elsewhere (CORS). Nothing about a
request is logged: no access log, no address, no body. /metrics is never on this port
(bot/ops.py): only on BACKCHECK_METRICS_PORT, when set.

The server is built by bot/httpsafe.py like every other (body cap, read timeouts, security
headers); the page sets its own Content-Security-Policy, whose frame-ancestors name the
listed sites, and httpsafe leaves it (and sends no X-Frame-Options) for the page only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from bot import commands, httpsafe
from bot.adapters.web import NAME, inbound, render, transport
from bot.adapters.web.limits import AddressKeys, Buckets
from bot.adapters.web.settings import WebSettings
from bot.adapters.web.transport import COOKIE, HEADER, SessionIds
from bot.app import App
from bot.commands import Command
from bot.compose import build_app
from bot.config import Settings, port
from bot.lifecycle import run_until_signal, shutdown
from bot.ops import add_ops_routes, bound_port, metrics_listener_port, start_metrics
from bot.types import Incoming, Reply

__all__ = ["COOKIE", "HEADER", "WebChat", "page_csp", "register", "serve", "start"]

log = logging.getLogger("backcheck.web")

DEFAULT_PORT = 8080
STATIC = {"/app.js": ("app.js", "text/javascript"), "/app.css": ("app.css", "text/css"),
          "/widget.js": ("widget.js", "text/javascript"), "/": ("index.html", "text/html")}
UI_KEYS = ("title", "language_label", "log_label", "answers_label", "type_label", "send",
           "you", "progress_label", "back", "restart", "help", "privacy", "forget",
           "menu_label", "summary_title", "copy", "copied", "copy_failed", "print",
           "download", "download_name", "start", "offline", "widget_open", "widget_close",
           "widget_title", "forget_confirm", "forget_yes", "forget_no", "forgotten")
STATUS = {"bad_json": 400, "bad_request": 400, "forged": 400, "unknown_session": 404,
          "too_large": 413, "slow_down": 429, "origin": 403, "stopping": 503}
CURRENT = Command("current").text()  # where a check stands, changing nothing


class TurnFailed(Exception):
    """`App.handle` raised: the App's metrics middleware has counted it already (as
    "internal"), so the API's catch-all answers it without reporting it again."""


def page_csp(origins: tuple[str, ...]) -> str:
    """The page's policy: our own scripts, styles and API only; framed by us and `origins`."""
    ancestors = " ".join(("'self'", *origins))
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}")


def static_files() -> dict[str, bytes]:
    """The page and its scripts, read once from the package."""
    folder = resources.files("bot.adapters.web") / "static"
    return {path: (folder / name).read_bytes() for path, (name, _) in STATIC.items()}


@dataclass
class WebChat:
    """The web platform around one App: routes, sessions, limits and headers."""

    app: App
    settings: WebSettings = field(default_factory=WebSettings)
    session_ttl: float = 86400.0
    files: dict[str, bytes] = field(default_factory=static_files)
    ids: SessionIds = field(default_factory=SessionIds.random)

    def __post_init__(self) -> None:
        self.per_session = Buckets(self.settings.session_rate)
        self.per_address = Buckets(self.settings.address_rate)
        self.address_key = AddressKeys()
        self._ui: dict[str, dict[str, Any]] = {}

    # -- the aiohttp application ---------------------------------------------------------

    def application(self) -> web.Application:
        """The aiohttp application (not started), built the guarded way."""
        web_app = httpsafe.application(max_body=self.settings.max_body,
                                       middlewares=[self._api])
        for path in STATIC:
            web_app.router.add_get(path, self.static)
        web_app.router.add_get("/favicon.ico", self.no_icon)
        web_app.router.add_get("/api/state", self.state)
        web_app.router.add_get("/api/ui", self.ui_strings)
        web_app.router.add_post("/api/turn", self.turn)
        web_app.router.add_route("OPTIONS", "/api/{tail:.*}", self.preflight)
        add_ops_routes(web_app, self.app)
        return web_app

    @web.middleware
    async def _api(self, request: web.Request,
                   handler: httpsafe.Handler) -> web.StreamResponse:
        """Every API failure as JSON with a localized message (a body over the cap too);
        CORS on the API for the listed origins only. httpsafe adds the security headers."""
        if not request.path.startswith("/api/"):
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            code = "too_large" if exc.status == 413 else "bad_request"
            response = self.error(code, self.lang_of(request), status=exc.status)
        except Exception as exc:
            log.exception("web: unexpected error in %s", request.path)
            if not isinstance(exc, TurnFailed):  # a turn's own is counted by the App
                self.app.report(NAME, "internal")
            response = self.error("stopping", self.lang_of(request), status=500,
                                  key="errors.unavailable")
        transport.allow_origin(request, response, self.settings)
        return response

    # -- static files --------------------------------------------------------------------

    async def static(self, request: web.Request) -> web.Response:
        path = request.path
        headers = {"Content-Type": f"{STATIC[path][1]}; charset=utf-8",
                   "Cache-Control": "no-cache"}
        if path == "/":  # the page (and, with ?embed=1, the widget's frame)
            headers["Content-Security-Policy"] = page_csp(self.settings.origins)
        return web.Response(body=self.files[path], headers=headers)

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def preflight(self, request: web.Request) -> web.Response:
        """CORS preflight: allowed for the listed origins, refused (no CORS headers) else."""
        origin = request.headers.get("Origin", "")
        if origin not in self.settings.origins:
            return web.Response(status=403)
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": f"Content-Type, {HEADER}",
            "Access-Control-Max-Age": "600"})

    # -- the API -------------------------------------------------------------------------

    async def state(self, request: web.Request) -> web.Response:
        """Where the check stands: a new visitor gets a session and the intro; a returning
        one (a reload, a restarted bot) the open question or the result, as it was."""
        hint = self.hint(request)
        if (refused := self.refused(request, hint)) is not None:
            return refused
        session, header_mode = transport.session_of(request)
        new = not self.ids.issued(session)  # a forged or made-up id gets a fresh one
        session = self.ids.issue() if new else session
        key = inbound.session_key(session or "")
        first = Incoming(key, "start", lang_hint=hint) if new else Incoming(
            key, "command", CURRENT, lang_hint=hint)
        replies = await self.handle(first)
        lang = await self.app.language(key, hint)  # "current" changes nothing, nor the language
        if not new:
            lead = "" if request.query.get("resync") else self.app.text(lang, "welcome_back")
            replies = render.resumed(replies, lead)
        extra = {"session": session} if header_mode else {}
        response = self.answer(lang, replies, "", known_lang=None, extra=extra)
        if new and not header_mode:
            transport.set_cookie(response, session or "",
                                 secure=transport.secure(request, self.settings),
                                 max_age=self.session_ttl)
        return response

    async def turn(self, request: web.Request) -> web.Response:
        """One turn: a button, a menu command or typed text."""
        hint = self.hint(request)
        if (refused := self.refused(request, hint)) is not None:
            return refused
        data = inbound.decode(await request.read())
        page_lang = inbound.client_lang(data)  # the language the page shows now
        lang = hint = page_lang or hint
        session, header_mode = transport.session_of(request)
        if not self.ids.issued(session):
            return self.error("unknown_session", lang)
        if not self.per_session.allow(session or ""):
            return self.error("slow_down", lang)
        key = inbound.session_key(session or "")
        incoming = inbound.turn_of(data, key, hint)
        if isinstance(incoming, inbound.Rejected):
            return self.error(incoming.code, lang)
        replies = await self.handle(incoming)
        said = commands.of(incoming, self.app.locales)  # a button's, or typed ("glöm mig")
        command = said.name if said else ""
        forgotten = command == "forget" and not any(r.kind == "error" for r in replies)
        response = self.answer(await self.app.language(key, hint), replies, command,
                               known_lang=page_lang, extra={"ended": True} if forgotten else None)
        if forgotten and not header_mode:  # the session ends: its id is never used again
            transport.forget_cookie(response)
        elif not header_mode:  # the cookie lives as long as the stored check: it slides too
            transport.set_cookie(response, session or "",
                                 secure=transport.secure(request, self.settings),
                                 max_age=self.session_ttl)
        return response

    async def ui_strings(self, request: web.Request) -> web.Response:
        """The page's words in the language asked for (or the browser's), for the widget."""
        hint = self.hint(request)
        if (refused := self.refused(request, hint)) is not None:
            return refused
        lang = hint or self.app.default_lang
        return web.json_response({"lang": lang, "ui": self.ui(lang)})

    def answer(self, lang: str, replies: list[Reply], command: str, *,
               known_lang: str | None, extra: dict[str, Any] | None = None) -> web.Response:
        """The JSON for a turn: the messages, the language now (`lang`, read after the
        turn), and the page's words in it when the page does not have them yet."""
        body: dict[str, Any] = {"lang": lang,
                                "messages": render.messages(replies, command=command)}
        if lang != known_lang:
            body["ui"] = self.ui(lang)
        body.update(extra or {})
        return web.json_response(body)

    # -- helpers -------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """`App.handle`, whose unexpected exceptions come out as TurnFailed: counted once,
        by the App, never again by the API's catch-all."""
        try:
            return await self.app.handle(incoming)
        except Exception as exc:
            raise TurnFailed(type(exc).__name__) from exc

    def ui(self, lang: str) -> dict[str, Any]:
        if lang not in self._ui:
            strings: dict[str, Any] = {k: self.app.text(lang, f"web.{k}") for k in UI_KEYS}
            strings["langs"] = [{"code": code, "name": self.app.text(code, "lang_name")}
                                for code in self.app.locales.langs]
            self._ui[lang] = strings
        return self._ui[lang]

    def hint(self, request: web.Request) -> str | None:
        return inbound.lang_hint(request.query.get("lang"),
                                 request.headers.get("Accept-Language"),
                                 self.app.locales.langs)

    def lang_of(self, request: web.Request) -> str:
        return self.hint(request) or self.app.default_lang

    def refused(self, request: web.Request, hint: str | None) -> web.Response | None:
        """Stopping, a foreign origin or too many requests from one address: the reply."""
        if self.app.in_flight.stopping:
            return self.error("stopping", hint)
        if transport.foreign(request, self.settings):
            return self.error("origin", hint)
        address = self.address_key(transport.address(request, self.settings))
        if not self.per_address.allow(address):
            return self.error("slow_down", hint)
        return None

    def error(self, code: str, lang: str | None, *, status: int | None = None,
              key: str | None = None) -> web.Response:
        """A clear, localized error; the page shows it and keeps everything it had."""
        if code == "slow_down":
            self.app.report(NAME, "rate_limited")
        words = self.app.text(lang or self.app.default_lang, key or f"web.errors.{code}")
        return web.json_response({"error": code, "message": words},
                                 status=status or STATUS.get(code, 400))


# -- `backcheck web` ---------------------------------------------------------------------


async def start(chat: WebChat, host: str, port_number: int) -> web.AppRunner:
    """Serve `chat` on host:port (0: any free port); the caller awaits `runner.cleanup()`."""
    runner = await httpsafe.serve(chat.application(), host, port_number)
    log.info("web: listening on http://%s:%d/", host, bound_port(runner))
    return runner


async def serve(settings: Settings, host: str, port_number: int) -> None:
    """Run until SIGINT/SIGTERM, then finish the turns in flight and close the store."""
    metrics_at = metrics_listener_port(settings, public=(port_number,))
    app = build_app(settings)
    chat = WebChat(app, WebSettings.of(settings), settings.session_ttl,
                   ids=SessionIds.of(settings.secret_key))
    runners: list[web.AppRunner] = []

    async def begin() -> None:
        runners.append(await start(chat, host, port_number))
        if (metrics := await start_metrics(app, settings, metrics_at)) is not None:
            runners.append(metrics)

    async def end() -> None:
        # shutdown marks the App stopping first: the API answers 503, /healthz "stopping"
        await shutdown(app, settings.shutdown_timeout)
        for runner in runners:
            await runner.cleanup()

    await run_until_signal(begin, end)


def run(args: argparse.Namespace) -> int:
    """`backcheck web`: the exit code (a ConfigError is reported by the CLI with 2)."""
    settings = Settings.from_env()
    settings.require("BACKCHECK_SECRET_KEY")  # sessions are stored encrypted, never plain
    asyncio.run(serve(settings, args.host, args.port))
    return 0


def register(subparsers: Any) -> None:
    """Add `backcheck web`."""
    parser = subparsers.add_parser(
        "web", help="serve the check as a web page and an embeddable widget")
    parser.add_argument("--port", type=port, default=DEFAULT_PORT, metavar="N",
                        help=f"port for the page, /api and /healthz "
                             f"(default {DEFAULT_PORT})")
    parser.add_argument("--host", default="0.0.0.0",
                        help="address to listen on (default 0.0.0.0)")
    parser.set_defaults(handler=run)
