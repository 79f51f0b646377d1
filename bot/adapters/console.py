"""The terminal adapter: `backcheck chat`, interactive or as JSON lines for scripts.

Like every adapter it only translates: a typed line -> Incoming, a Reply -> printed text
(or one JSON object per line with --json). The conversation itself is the App's.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import getpass
import json
import os
import secrets
import sys
import threading
from dataclasses import replace
from typing import Any

from bot.app import App, build_app
from bot.config import LANGS, REGIONS, Settings
from bot.engine.machine import parse_command
from bot.lifecycle import on_signals, shutdown
from bot.logs import setup_logging
from bot.types import Incoming, IncomingKind, Reply, SessionKey

INFO_COMMANDS = ("help", "faq", "privacy")  # their text comes as a message before the question
JSON_COMMANDS = ("back", "restart", "stop", "cancel", "help", "language", "faq", "privacy",
                 "forget", "summary", "start")


class Console:
    """One terminal conversation. `feed` takes a typed line and returns what to print."""

    def __init__(self, app: App, *, lang: str | None = None, json_mode: bool = False,
                 user: str | None = None) -> None:
        self.app, self.lang, self.json_mode = app, lang, json_mode
        self.key = SessionKey("console", "local", "terminal", user or secrets.token_hex(4))
        self.last: Reply | None = None  # the last reply with buttons
        self.ended = False

    async def start(self) -> list[str]:
        """Open (or resume) the check."""
        resume = "" if self.json_mode else "resume"  # --json: always a fresh check
        return await self._send(Incoming(self.key, "start", resume, lang_hint=self.lang))

    async def feed(self, line: str) -> list[str]:
        """Handle one line the person typed."""
        line = line.strip()
        if self.json_mode:
            incoming_or_error = self._from_json(line)
            if isinstance(incoming_or_error, str):
                again = [self._json(self.last)] if self.last else []
                return [json.dumps({"type": "error", "message": incoming_or_error}), *again]
            return await self._send(incoming_or_error)
        return await self._send(self._from_text(line))

    def _from_text(self, line: str) -> Incoming:
        buttons = self.last.buttons if self.last else ()
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            button = buttons[int(line) - 1]
            kind: IncomingKind = "answer" if button.kind == "answer" else "command"
            return Incoming(self.key, kind, button.value, self.last.token if self.last else None,
                            self.lang)
        return Incoming(self.key, "text", line, lang_hint=self.lang)

    def _from_json(self, line: str) -> Incoming | str:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return "invalid JSON: send {\"answer\": \"<option id>\"} or {\"command\": \"back\"}"
        if not isinstance(data, dict):
            return "expected a JSON object"
        token = self.last.token if self.last else None
        if isinstance(data.get("answer"), str):
            return Incoming(self.key, "answer", data["answer"], token, self.lang)
        if isinstance(data.get("command"), str):
            name = data["command"].strip()
            if name.split(" ")[0] not in JSON_COMMANDS:
                return f"unknown command {name!r}; known: {', '.join(JSON_COMMANDS)}"
            command: IncomingKind = "start" if name == "start" else "command"
            return Incoming(self.key, command, name, token, self.lang)
        if isinstance(data.get("text"), str):
            return Incoming(self.key, "text", data["text"], lang_hint=self.lang)
        return "expected {\"answer\": ...}, {\"command\": ...} or {\"text\": ...}"

    async def _send(self, incoming: Incoming) -> list[str]:
        replies = await self.app.handle(incoming)
        out: list[str] = []
        for reply in replies:
            # a check-in needs a chat the bot can write to later: not a terminal
            reply = replace(reply, buttons=tuple(b for b in reply.buttons
                                                 if b.value != "followup"))
            if reply.buttons:
                self.last = reply
            if reply.kind == "answered":
                continue
            if self.json_mode and reply.lead and incoming.value in INFO_COMMANDS:
                out.append(json.dumps({"type": "message", "text": reply.lead}, ensure_ascii=False))
            out.append(self._json(reply) if self.json_mode else self._text(reply))
        command = incoming.value if incoming.kind == "command" else (
            parse_command(incoming.value, self.app.locales) if incoming.kind == "text" else None)
        if command in ("stop", "cancel", "forget") and not any(r.kind == "error" for r in replies):
            self.ended = True
        return out

    @staticmethod
    def _text(reply: Reply) -> str:
        lines = [reply.text]
        if reply.buttons:
            lines.append("")
            lines += [f"  {i}. {b.label}" for i, b in enumerate(reply.buttons, 1)]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _json(reply: Reply | None) -> str:
        if reply is None:
            return "{}"
        data: dict[str, Any]
        if reply.kind in ("question", "info"):
            data = {"type": "question", "id": reply.node, "text": reply.prompt,
                    "options": [{"id": b.value, "label": b.label} for b in reply.buttons],
                    "progress": list(reply.progress) if reply.progress else None}
        elif reply.kind == "outcome" and reply.outcome:
            data = {"type": "outcome", "level": reply.outcome.level,
                    "fits": list(reply.outcome.fits), "why": list(reply.outcome.why),
                    "text": reply.text,
                    "actions": [{"command": b.value, "label": b.label} for b in reply.buttons]}
        elif reply.kind in ("error", "stale"):
            data = {"type": "error", "message": reply.text}
        else:
            data = {"type": "message", "text": reply.text}
            if reply.buttons:
                data["actions"] = [{"command": b.value, "label": b.label} for b in reply.buttons]
        return json.dumps(data, ensure_ascii=False)


async def run_chat(app: App, *, lang: str | None, json_mode: bool,
                   shutdown_timeout: float = 20.0) -> int:
    """The read-print loop on stdin/stdout; ends on EOF, stop or forget, or on SIGTERM /
    SIGINT — after the line being handled has been answered. Closes the store.

    Interactively the check belongs to the terminal's user, so an unfinished one resumes
    next time ("Welcome back"); a --json run is a fresh check, deleted when it ends."""
    user = None if json_mode else f"user-{getpass.getuser()}"
    console = Console(app, lang=lang, json_mode=json_mode, user=user)
    stopping = asyncio.Event()
    lines = StdinLines(asyncio.get_running_loop())
    try:
        with on_signals(stopping.set):
            _print(await console.start())
            while not console.ended and not stopping.is_set():
                if not json_mode:
                    print("> ", end="", flush=True)
                line = await lines.next(stopping)
                if not line:
                    break
                if not line.strip() and json_mode:
                    continue
                _print(await console.feed(line))  # a signal now waits for this turn
        if stopping.is_set() and not json_mode:
            print()
        if json_mode:
            await app.store.forget(console.key.person())
    finally:
        await shutdown(app, shutdown_timeout)
    return 0


class StdinLines:
    """Lines from stdin, read by a daemon thread with os.read: waiting for input never
    holds up a signal or the exit (a blocked `sys.stdin.readline` thread would)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.loop = loop
        threading.Thread(target=self._read, name="stdin", daemon=True).start()

    async def next(self, stopping: asyncio.Event) -> str:
        """The next line (with its newline); "" at end of input or once `stopping` is set."""
        get = asyncio.ensure_future(self.queue.get())
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait((get, stop), return_when=asyncio.FIRST_COMPLETED)
        for task in (get, stop):
            task.cancel()
        return get.result() if get.done() and not get.cancelled() else ""

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")("replace")
        pending = ""
        while True:
            try:
                chunk = os.read(sys.stdin.fileno(), 65536)
            except OSError:
                chunk = b""
            *complete, pending = (pending + decoder.decode(chunk, final=not chunk)).split("\n")
            lines = [line + "\n" for line in complete]
            if not chunk:  # end of input: the last unfinished line, then ""
                lines += [pending, ""] if pending else [""]
            for line in lines:
                try:
                    self.loop.call_soon_threadsafe(self.queue.put_nowait, line)
                except RuntimeError:  # the loop has closed: nobody is listening any more
                    return
            if not chunk:
                return


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


def _chat(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.region:
        settings = Settings(**{**settings.__dict__, "region": args.region})
    if not os.environ.get("BACKCHECK_LOG_LEVEL", "").strip():
        setup_logging(replace(settings, log_level="WARNING"))  # a conversation, not a server
    app = build_app(settings)
    return asyncio.run(run_chat(app, lang=args.lang, json_mode=args.json,
                                shutdown_timeout=settings.shutdown_timeout))


def register(sub: Any) -> None:
    """Add `backcheck chat`."""
    p = sub.add_parser("chat", help="run a check in the terminal (no tokens, no network)")
    p.add_argument("--lang", choices=LANGS, help="language (default: BACKCHECK_LANG, else English)")
    p.add_argument("--region", choices=REGIONS, help="phone numbers to show (default SE)")
    p.add_argument("--json", action="store_true", help="speak JSON lines on stdin/stdout")
    p.set_defaults(handler=_chat)
