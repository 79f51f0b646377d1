"""A stand-in Slack Web API for tests, a request signer, and the payload fixtures.

`SlackStub` serves `https://slack.com/api/<method>` on 127.0.0.1 the way Slack does
(query, form or JSON parameters in; `{"ok": true, ...}` out, with ts and channel ids),
so slack_sdk's AsyncWebClient and slack-bolt run unmodified against it. It records
every call, keeps each channel's messages as people see them (chat.update applied,
ephemeral messages kept per person) and serves the `response_url`s it hands out.

It also plays Slack's Socket Mode server: `apps.connections.open` hands out a WebSocket
URL on the same port, and `envelope()` pushes a request down it and waits for the ack.

`Signer` signs a request body exactly as Slack does: v0 HMAC-SHA256 of
`v0:{timestamp}:{body}` with the signing secret.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.adapters.slack import render

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
TEAM = "T0BCK0001"
BOT_USER = "U0BCKBOT1"
BOT_ID = "B0BCKBOT1"
TOKEN = "xoxb-1234-5678-backchecktest"
APP_TOKEN = "xapp-1-A0BCKAPP1-1234-backchecktest"
SVEN = "U0SVEN001"  # a person whose Slack locale is Swedish

JSON = dict[str, Any]


def fixture(name: str) -> JSON:
    """A real-shaped payload from tests/fixtures/slack/<name>.json."""
    data: JSON = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """A fresh trigger id: Slack gives every command and interaction its own, so no two
    requests it signs are the same bytes (a replay is; bot/adapters/slack/gate.py)."""
    return f"{next(_TRIGGERS)}.5864732013.{time.time_ns():x}"


def command_form(**overrides: str) -> str:
    """A slash command body as Slack posts it (form-encoded), fields overridden."""
    raw = (FIXTURES / "command.form").read_text(encoding="utf-8").strip()
    fields = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
    fields.update({"trigger_id": trigger_id(), **overrides})
    return urllib.parse.urlencode(fields)


def interaction_form(payload: JSON) -> str:
    """An interactivity body as Slack posts it: `payload=<url-encoded JSON>`, with a
    trigger id of its own."""
    payload = {**payload, "trigger_id": trigger_id()} if "trigger_id" in payload else payload
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


class Signer:
    """Signs requests the way Slack does (X-Slack-Request-Timestamp, X-Slack-Signature)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def signature(self, body: str, timestamp: int) -> str:
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()

    def headers(self, body: str, *, age: float = 0, content_type: str) -> dict[str, str]:
        """Headers for `body` signed `age` seconds ago."""
        timestamp = int(time.time() - age)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": self.signature(body, timestamp),
        }


@dataclass
class Call:
    """One Web API request the bot made, with its decoded arguments."""

    method: str
    args: JSON


@dataclass
class Shown:
    """A message as it shows in a channel now (updates applied)."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str | None = None  # set for ephemeral messages: the only person who sees it
    edits: int = 0

    def buttons(self) -> list[JSON]:
        return [e for b in self.blocks if b["type"] == "actions" for e in b["elements"]]

    def body(self) -> str:
        """The text of its section blocks, as a person reads it."""
        return "\n\n".join(
            b["text"]["text"] for b in self.blocks if b["type"] == "section" and "text" in b
        )


@dataclass
class SlackStub:
    """The Web API stand-in. `locales` maps user id -> Slack locale for users.info."""

    locales: dict[str, str] = field(default_factory=dict)
    default_locale: str = "en-US"
    calls: list[Call] = field(default_factory=list)
    shown: list[Shown] = field(default_factory=list)
    responses: list[JSON] = field(default_factory=list)  # bodies posted to response_urls
    views: dict[str, JSON] = field(default_factory=dict)  # user id -> published Home view
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error to answer
    fail_once: dict[str, int] = field(default_factory=dict)  # method -> failures to answer
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> how many 429s
    retry_after: str = "0"  # the Retry-After header of those 429s, in seconds
    delays: dict[str, list[float]] = field(default_factory=dict)  # method -> slow answers
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _socket: web.WebSocketResponse | None = None
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _acks: dict[str, asyncio.Future[JSON]] = field(default_factory=dict)
    base: str = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.base}/response/{name}"

    # -- what tests read ---------------------------------------------------------------

    def called(self, method: str) -> list[JSON]:
        return [c.args for c in self.calls if c.method == method]

    def channel(self, channel: str, user: str | None = None) -> list[Shown]:
        """Messages in a channel as `user` sees them (ephemeral ones only for them)."""
        return [m for m in self.shown if m.channel == channel and m.user in (None, user)]

    def blocks_sent(self) -> list[JSON]:
        """Every block in every message, update and view the bot sent."""
        out: list[JSON] = []
        for call in self.calls:
            out += call.args.get("blocks") or []
            out += (call.args.get("view") or {}).get("blocks", [])
        for body in self.responses:
            out += body.get("blocks") or []
        return out

    # -- the API -----------------------------------------------------------------------

    async def _args(self, request: web.Request) -> JSON:
        args: JSON = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        for name in ("blocks", "view"):
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append(Call(method, copy.deepcopy(args)))
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method].pop(0))  # a slow network
        token = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": self.retry_after})
        if self.fail_once.get(method, 0) > 0:
            self.fail_once[method] -= 1
            return web.json_response({"ok": False, "error": "internal_error"})
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body: JSON = {"ok": True, **handler(args)}
        return web.json_response(body)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _auth_test(self, args: JSON) -> JSON:
        return {"url": "https://backcheck-test.slack.com/", "team": "Backcheck Test",
                "user": "backcheck", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def _conversations_open(self, args: JSON) -> JSON:
        user = str(args["users"])
        return {"no_op": True, "already_open": True, "channel": {"id": "D" + user[1:]}}

    def _users_info(self, args: JSON) -> JSON:
        user = str(args["user"])
        profile: JSON = {"id": user, "team_id": TEAM, "name": user.lower(), "is_bot": False}
        if str(args.get("include_locale")).lower() in ("true", "1"):
            profile["locale"] = self.locales.get(user, self.default_locale)
        return {"user": profile}

    def _chat_postMessage(self, args: JSON) -> JSON:
        ts = self._next_ts()
        channel = str(args["channel"])
        self.shown.append(Shown(channel, ts, str(args.get("text", "")), args.get("blocks") or []))
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts,
                   "text": args.get("text", ""), "blocks": args.get("blocks") or []}
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: JSON) -> JSON:
        for m in self.shown:
            if m.channel == args["channel"] and m.ts == args["ts"] and m.user is None:
                m.text, m.blocks = str(args.get("text", "")), args.get("blocks") or []
                m.edits += 1
                return {"channel": m.channel, "ts": m.ts, "text": m.text}
        raise web.HTTPOk(text=json.dumps({"ok": False, "error": "message_not_found"}),
                         content_type="application/json")

    def _chat_postEphemeral(self, args: JSON) -> JSON:
        ts = self._next_ts()
        self.shown.append(Shown(str(args["channel"]), ts, str(args.get("text", "")),
                                args.get("blocks") or [], user=str(args["user"])))
        return {"message_ts": ts}

    def _views_publish(self, args: JSON) -> JSON:
        self.views[str(args["user_id"])] = args["view"]
        return {"view": {"id": "V0BCKHOME1", "type": "home", **args["view"]}}

    def _apps_connections_open(self, args: JSON) -> JSON:
        return {"url": self.base.replace("http://", "ws://") + "/socket"}

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({
            "type": "hello", "num_connections": 1,
            "debug_info": {"host": "applink-stub", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0BCKAPP1"},
        })
        self._connected.set()
        async for message in ws:
            ack = json.loads(message.data)
            future = self._acks.pop(str(ack.get("envelope_id")), None)
            if future is not None and not future.done():
                future.set_result(ack)
        return ws

    async def envelope(self, kind: str, payload: JSON, *, timeout: float = 3.0) -> JSON:
        """Push one Socket Mode request ("slash_commands", "interactive", "events_api")
        and return the app's acknowledgement, which must come within `timeout` seconds."""
        await asyncio.wait_for(self._connected.wait(), timeout)
        assert self._socket is not None
        envelope_id = f"env-{next(self._ts)}"
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._socket.send_json({
            "envelope_id": envelope_id, "payload": payload, "type": kind,
            "accepts_response_payload": kind != "events_api",
        })
        return await asyncio.wait_for(future, timeout)

    async def _response_url(self, request: web.Request) -> web.Response:
        body: JSON = await request.json()
        body["_url"] = request.match_info["id"]
        self.responses.append(body)
        return web.Response(text="ok")


def assert_valid_blocks(stub: SlackStub) -> None:
    """Every message, update and view the bot sent parses with slack_sdk's Block Kit
    models, validates, and keeps within Slack's limits."""
    for call in stub.calls:
        blocks = call.args.get("blocks")
        if blocks is not None:
            assert call.args.get("text"), f"{call.method} without a notification text"
            assert 0 < len(blocks) <= render.BLOCKS_MAX
            ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
            assert len(ids) == len(set(ids)), "action_ids must be unique within a message"
        if "view" in call.args:
            View(**copy.deepcopy(call.args["view"])).validate_json()
    for raw in stub.blocks_sent():
        block = Block.parse(copy.deepcopy(raw))
        assert block is not None, raw
        block.validate_json()
        assert block.to_dict() == raw
        for element in raw.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= render.BUTTON_TEXT_MAX
                assert len(element["value"]) <= render.BUTTON_VALUE_MAX
