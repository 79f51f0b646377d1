"""The terminal adapter: `backcheck chat`, interactive or as JSON lines for scripts.

Like every adapter it only translates: a typed line -> Incoming, a Reply -> printed text
(or one JSON object per line with --json). The conversation itself is the App's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from typing import Any

from bot.app import App, build_app
from bot.config import LANGS, REGIONS, Settings
from bot.engine.machine import parse_command
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
        return await self._send(Incoming(self.key, "start", lang_hint=self.lang))

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


async def run_chat(app: App, *, lang: str | None, json_mode: bool) -> int:
    """The read-print loop on stdin/stdout; ends on EOF, stop or forget."""
    console = Console(app, lang=lang, json_mode=json_mode)
    _print(await console.start())
    try:
        while not console.ended:
            if not json_mode:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            if not line.strip() and json_mode:
                continue
            _print(await console.feed(line))
    finally:
        await app.store.close()
    return 0


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


def _chat(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.region:
        settings = Settings(**{**settings.__dict__, "region": args.region})
    app = build_app(settings)
    return asyncio.run(run_chat(app, lang=args.lang, json_mode=args.json))


def register(sub: Any) -> None:
    """Add `backcheck chat`."""
    p = sub.add_parser("chat", help="run a check in the terminal (no tokens, no network)")
    p.add_argument("--lang", choices=LANGS, help="language (default: BACKCHECK_LANG, else English)")
    p.add_argument("--region", choices=REGIONS, help="phone numbers to show (default SE)")
    p.add_argument("--json", action="store_true", help="speak JSON lines on stdin/stdout")
    p.set_defaults(handler=_chat)
