"""One terminal conversation: a typed line in, the lines to print out. Translation only
(inbound.py, render.py); the conversation itself is the App's."""

from __future__ import annotations

import json
import secrets

from bot import commands
from bot.adapters.console import inbound, render
from bot.app import App
from bot.types import Incoming, Reply, SessionKey

INFO_COMMANDS = ("help", "faq", "privacy")  # their text comes as a message before the question
ENDING = ("stop", "forget")  # commands after which the terminal session ends


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
            incoming = inbound.from_json(line, self.key, self.last, self.lang)
            if isinstance(incoming, str):
                again = [render.json_line(self.last)] if self.last else []
                return [json.dumps({"type": "error", "message": incoming}), *again]
            return await self._send(incoming)
        return await self._send(inbound.from_text(line, self.key, self.last, self.lang))

    async def _send(self, incoming: Incoming) -> list[str]:
        replies = await self.app.handle(incoming)
        out: list[str] = []
        for reply in replies:
            if reply.buttons:
                self.last = reply
            if reply.kind == "answered":
                continue
            if self.json_mode and reply.lead and incoming.value in INFO_COMMANDS:
                out.append(json.dumps({"type": "message", "text": reply.lead},
                                      ensure_ascii=False))
            out.append(render.json_line(reply) if self.json_mode else render.text(reply))
        command = commands.of(incoming, self.app.locales)
        if command and command.name in ENDING and not any(r.kind == "error" for r in replies):
            self.ended = True
        return out
