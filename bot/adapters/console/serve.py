"""`backcheck chat`: the read-print loop on stdin/stdout, interactive or JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import codecs
import getpass
import os
import sys
import threading
from typing import Any

from bot.adapters.console.transport import Console
from bot.app import App
from bot.compose import build_app
from bot.config import LANGS, REGIONS, Settings
from bot.lifecycle import on_signals, shutdown
from bot.logs import setup_logging


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
        settings = settings.replace(region=args.region)
    if not os.environ.get("BACKCHECK_LOG_LEVEL", "").strip():
        setup_logging(settings.replace(log_level="WARNING"))  # a conversation, not a server
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
