"""A stand-in Telegram Bot API server for tests, and a pretend user who talks to it.

`BotApiStub` serves `POST /bot<token>/<method>` on 127.0.0.1 the way api.telegram.org
does (form or JSON parameters in, `{"ok": ..., "result": ...}` out, with realistic
Message objects and Telegram's own error descriptions), so python-telegram-bot runs
unmodified against it. It records every call, keeps each chat's messages as the
person would see them (edits applied), and can answer the next calls of a method with
a fault such as a 429 flood-control error.

`User` pushes updates built from the real payloads in `fixtures/telegram/` and waits
until the bot has finished with them (the test registers `stub.marker` as the last
handler of the Application, see `track`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
JSON_PARAMS = {
    "reply_markup", "commands", "allowed_updates", "link_preview_options", "entities",
    "scope", "reply_parameters",
}
TOO_MANY = {
    "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
    "parameters": {"retry_after": 1},
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

JSON = dict[str, Any]


def fixture(name: str) -> JSON:
    """A real Bot API payload from tests/fixtures/telegram/<name>.json."""
    data: JSON = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


class BadRequest(Exception):
    """An API error to answer with, e.g. 400 'Bad Request: message text is empty'."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class Call:
    """One request the bot made, with its decoded parameters and our HTTP status."""

    method: str
    params: JSON
    status: int = 200


@dataclass
class Shown:
    """A message the bot sent, as the chat shows it now (edits applied)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JSON | None = None
    edits: list[str] = field(default_factory=list)

    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]


class BotApiStub:
    """The Bot API for one bot, in memory. Start with `await stub.start()`."""

    def __init__(self, token: str, *, bot_id: int = 7000000001,
                 username: str = "backcheck_test_bot", max_poll: float = 0.3) -> None:
        self.token, self.bot_id, self.username, self.max_poll = token, bot_id, username, max_poll
        self.calls: list[Call] = []
        self.shown: dict[tuple[int, int], Shown] = {}
        self.chats: dict[int, JSON] = {}
        self.faults: dict[str, list[JSON]] = {}
        self.delays: dict[str, list[float]] = {}
        self.open_queries: set[str] = set()
        self.pushed_queries: set[str] = set()
        self.webhook: JSON = {"url": ""}
        self._updates: list[JSON] = []
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self._wake = asyncio.Event()
        self._processed: set[int] = set()
        self._done = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self._wake.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def _serve(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        delay = self.delays.get(method.lower())
        if delay:
            await asyncio.sleep(delay.pop(0))
        fault = self.faults.get(method.lower())
        if fault:
            body = fault.pop(0)
            call.status = int(body["error_code"])
            return web.json_response(body, status=call.status)
        handler = getattr(self, f"_{method.lower()}", None)
        if handler is None:
            call.status = 404
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            result = await handler(params)
        except BadRequest as exc:
            call.status = exc.code
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    # -- faults, updates, progress ---------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, body: JSON | None = None) -> None:
        """Answer the next `times` calls of `method` with `body` (default: 429, retry after 1)."""
        self.faults.setdefault(method.lower(), []).extend([body or TOO_MANY] * times)

    def slow_next(self, method: str, seconds: list[float]) -> None:
        """Take this long to answer each of the next calls of `method` (a slow network)."""
        self.delays.setdefault(method.lower(), []).extend(seconds)

    def push(self, update: JSON) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update = copy.deepcopy(update)
        update["update_id"] = next(self._ids)
        self._remember(update)
        self._updates.append(update)
        self._wake.set()
        return int(update["update_id"])

    def stamp(self, update: JSON) -> JSON:
        """Give an update delivered some other way (a webhook POST) an id and remember it."""
        update = copy.deepcopy(update)
        update["update_id"] = next(self._ids)
        self._remember(update)
        return update

    def _remember(self, update: JSON) -> None:
        body = update.get("message") or update.get("edited_message") or {}
        if "chat" in body:
            self.chats[body["chat"]["id"]] = body["chat"]
        if "callback_query" in update:
            self.pushed_queries.add(update["callback_query"]["id"])
            self.open_queries.add(update["callback_query"]["id"])

    async def marker(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """A last-group handler: the bot has finished with this update."""
        async with self._done:
            self._processed.add(update.update_id)
            self._done.notify_all()

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        async with self._done:
            await asyncio.wait_for(
                self._done.wait_for(lambda: update_id in self._processed), timeout)

    # -- what the person sees -------------------------------------------------------------

    def messages(self, chat_id: int) -> list[Shown]:
        return [m for (c, _), m in sorted(self.shown.items()) if c == chat_id]

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    # -- Bot API methods ------------------------------------------------------------------

    def _me(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Backcheck",
                "username": self.username}

    async def _getme(self, _: JSON) -> JSON:
        return {**self._me(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    async def _getupdates(self, p: JSON) -> list[JSON]:
        offset = int(p.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), self.max_poll)
        while not self._updates and (left := deadline - time.monotonic()) > 0:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except TimeoutError:
                break
        return self._updates[: int(p.get("limit") or 100)]

    async def _sendmessage(self, p: JSON) -> JSON:
        chat_id, text = int(p["chat_id"]), str(p.get("text", ""))
        _check_text(text)
        markup = p.get("reply_markup")
        _check_markup(markup)
        shown = Shown(chat_id, next(self._message_ids), text, markup)
        self.shown[(chat_id, shown.message_id)] = shown
        return self._message(shown)

    async def _editmessagetext(self, p: JSON) -> JSON:
        key = (int(p["chat_id"]), int(p["message_id"]))
        text, markup = str(p.get("text", "")), p.get("reply_markup")
        _check_text(text)
        _check_markup(markup)
        shown = self.shown.get(key)
        if shown is None:
            raise BadRequest("Bad Request: message to edit not found")
        if shown.text == text and shown.reply_markup == markup:
            raise BadRequest(NOT_MODIFIED)
        shown.edits.append(shown.text)
        shown.text, shown.reply_markup = text, markup
        return {**self._message(shown), "edit_date": int(time.time())}

    async def _answercallbackquery(self, p: JSON) -> bool:
        query = str(p["callback_query_id"])
        if query not in self.open_queries:
            raise BadRequest(QUERY_TOO_OLD)
        if utf16_units(str(p.get("text", ""))) > 200:
            raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
        self.open_queries.discard(query)
        return True

    async def _setmycommands(self, p: JSON) -> bool:
        for command in p["commands"]:
            if not 1 <= len(command["description"]) <= 256:
                raise BadRequest("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def _deletewebhook(self, _: JSON) -> bool:
        self.webhook = {"url": ""}
        return True

    async def _setwebhook(self, p: JSON) -> bool:
        self.webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
        return True

    async def _getwebhookinfo(self, _: JSON) -> JSON:
        return {"url": self.webhook["url"], "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _close(self, _: JSON) -> bool:
        return True

    async def _logout(self, _: JSON) -> bool:
        return True

    def _message(self, shown: Shown) -> JSON:
        message: JSON = {
            "message_id": shown.message_id, "from": self._me(),
            "chat": self.chats.get(shown.chat_id, {"id": shown.chat_id, "type": "private"}),
            "date": int(time.time()), "text": shown.text,
        }
        if shown.reply_markup:
            message["reply_markup"] = shown.reply_markup
        return message


async def _params(request: web.Request) -> JSON:
    if request.content_type == "application/json":
        data: JSON = await request.json()
        return data
    form = await request.post()
    out: JSON = {}
    for name, value in form.items():
        text = value if isinstance(value, str) else ""
        out[name] = json.loads(text) if name in JSON_PARAMS else text
    return out


def utf16_units(text: str) -> int:
    """A text's length as the Bot API counts it, in UTF-16 code units (written out here,
    not imported from bot/, so the stand-in does not share the code under test)."""
    return len(text.encode("utf-16-le")) // 2


def _check_text(text: str) -> None:
    if not text.strip():
        raise BadRequest("Bad Request: message text is empty")
    if utf16_units(text) > 4096:
        raise BadRequest("Bad Request: message is too long")


def _check_markup(markup: JSON | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")


def track(application: Application[Any, Any, Any, Any, Any, Any], stub: BotApiStub) -> None:
    """Let tests know when the bot has finished with an update (runs after every handler)."""
    application.add_handler(TypeHandler(Update, stub.marker), group=1000)


@dataclass
class Turn:
    """The calls the bot made while handling one update from this user."""

    calls: list[Call]

    def sent(self) -> list[str]:
        return [c.params["text"] for c in self.calls
                if c.method == "sendMessage" and c.status == 200]

    def toasts(self) -> list[str]:
        return [c.params.get("text", "") for c in self.calls if c.method == "answerCallbackQuery"]

    def edits(self) -> list[str]:
        return [c.params["text"] for c in self.calls if c.method == "editMessageText"]


Deliver = Callable[[JSON], Awaitable[int]]


class User:
    """A person in a chat with the bot: types, presses buttons, and reads the chat."""

    def __init__(self, stub: BotApiStub, user_id: int, *, lang: str = "en",
                 chat: JSON | None = None, deliver: Deliver | None = None) -> None:
        self.stub, self.id, self.lang = stub, user_id, lang
        self.chat = chat or {"id": user_id, "first_name": "Alex", "type": "private"}
        self.deliver = deliver
        self._queries = itertools.count(1)
        self._message_ids = itertools.count(100)

    @property
    def sender(self) -> JSON:
        return {"id": self.id, "is_bot": False, "first_name": "Alex", "language_code": self.lang}

    def messages(self) -> list[Shown]:
        return self.stub.messages(self.chat["id"])

    def texts(self) -> list[str]:
        return [m.text for m in self.messages()]

    def last_keyboard(self) -> Shown:
        """The newest message in the chat that still has buttons."""
        return [m for m in self.messages() if m.buttons()][-1]

    async def send(self, text: str) -> Turn:
        """Type a message (a command when it starts with '/')."""
        update = fixture("message_text")
        body = update["message"]
        body.update(message_id=next(self._message_ids), chat=self.chat, text=text,
                    date=int(time.time()))
        body["from"] = self.sender
        if text.startswith("/"):
            body["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                 "type": "bot_command"}]
        return await self.push(update)

    async def send_fixture(self, name: str) -> Turn:
        """Send a sticker, voice, photo or edited message from the fixtures as this user."""
        update = fixture(name)
        body = update.get("message") or update["edited_message"]
        body.update(chat=self.chat)
        body["from"] = self.sender
        return await self.push(update)

    async def press(self, label: str | None = None, *, data: str | None = None,
                    on: Shown | None = None) -> Turn:
        """Press the button with this label (or send this callback_data) on a message,
        by default the newest one with buttons."""
        message = on or self.last_keyboard()
        if data is None:
            matches = [b for b in message.buttons() if b["text"] == label]
            assert matches, f"no button {label!r} in {[b['text'] for b in message.buttons()]}"
            data = matches[0]["callback_data"]
        update = fixture("callback_query")
        query = update["callback_query"]
        query.update(id=f"q{self.id}-{next(self._queries)}", data=data)
        query["from"] = self.sender
        query["message"].update(
            message_id=message.message_id, chat=self.chat, text=message.text,
            reply_markup=message.reply_markup or {"inline_keyboard": []})
        query["message"]["from"] = self.stub._me()
        return await self.push(update)

    async def push(self, update: JSON) -> Turn:
        before = len(self.stub.calls)
        if self.deliver is None:
            update_id = self.stub.push(update)
        else:
            update_id = await self.deliver(self.stub.stamp(update))
        await self.stub.wait_processed(update_id)
        return Turn([c for c in self.stub.calls[before:] if self._mine(c)])

    def _mine(self, call: Call) -> bool:
        if "callback_query_id" in call.params:
            return str(call.params["callback_query_id"]).startswith(f"q{self.id}-")
        return str(call.params.get("chat_id")) == str(self.chat["id"])
