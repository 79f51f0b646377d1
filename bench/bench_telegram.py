"""Telegram end to end: backcheck next to a bare python-telegram-bot echo bot.

    python -m bench.bench_telegram [--quick] [--json PATH]    (about 2.5 min; --quick 10 s)

200 simulated people send 2,000 updates through the real adapter, running as its own
process, to the stand-in Bot API on 127.0.0.1 (tests/telegram_stub.py) in this process.
Each person waits for the reply before the next update, as people do; all 200 go at
once. Three workloads, interleaved and repeated (presses, the slowest, once and with
1,000 updates), medians reported:

- echo:     the PTB echo bot (examples/echobot.py) - one message in, the same text out;
- typed:    backcheck, /start then typed answers - one message in, one question out,
            the same Bot API traffic per update as the echo bot;
- buttons:  backcheck, /start then button presses - each press answers the callback
            query, edits the question to show the answer and sends the next question.

Both bots run with the same PTB settings (concurrent updates, AIORateLimiter) and with
PTB's client-side flood limiter (30 messages/s, Telegram's own limit) switched off, so
the numbers show how much work one update costs, not Telegram's cap. CPU time is the
bot process's own (/proc/<pid>/stat), from the first update to the last reply.
backcheck uses its default store, SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drive import Note, Person, Reader, WatchedStub, bot_env, shipped_reader, spawn

from bench.common import cpu_seconds, median, script_main

# echo and typed: 200 people x 10 updates, twice; buttons (3 API calls per update, so
# about 3x the time) once, with 5 updates each, to keep the whole bench near 4 minutes.
FULL = {"users": 200, "updates_per_user": 10, "repeats": 2, "buttons_updates_per_user": 5,
        "buttons_repeats": 1}
QUICK = {"users": 10, "updates_per_user": 3, "repeats": 1, "buttons_updates_per_user": 3,
         "buttons_repeats": 1}
WORKLOADS = ("echo", "typed", "buttons")


# -- the bots, run as `python -m bench.bench_telegram --serve echo|backcheck` -------------


def echo_application(token: str, base_url: str) -> Any:
    """The PTB echo bot, with the transport settings backcheck uses."""
    from telegram import Update
    from telegram.ext import (
        AIORateLimiter,
        ApplicationBuilder,
        ContextTypes,
        MessageHandler,
        filters,
    )

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = (ApplicationBuilder().token(token).base_url(base_url)
                   .rate_limiter(AIORateLimiter(overall_max_rate=0))
                   .concurrent_updates(True).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application


def backcheck_application(token: str, base_url: str) -> Any:
    """backcheck's own Application (bot/adapters/telegram.py), flood limiter off."""
    from telegram.ext import AIORateLimiter

    from bot.adapters.telegram.serve import build_application
    from bot.compose import build_app
    from bot.config import Settings

    application = build_application(build_app(Settings.from_env()), token, base_url)
    limiter = application.bot.rate_limiter
    if isinstance(limiter, AIORateLimiter):
        limiter._base_limiter = None  # the same as AIORateLimiter(overall_max_rate=0)
    return application


async def serve(kind: str) -> None:
    from bot.adapters.telegram.serve import start, stop

    logging.basicConfig(level=logging.WARNING)
    base = os.environ["TELEGRAM_API_BASE_URL"]
    make = echo_application if kind == "echo" else backcheck_application
    application = make(os.environ["TELEGRAM_BOT_TOKEN"], base)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    await start(application)
    await done.wait()
    await stop(application)


# -- the harness -------------------------------------------------------------------------


def any_message(_: str, note: Note) -> bool:
    return note.kind == "message"


async def person_run(person: Person, workload: str, updates: int) -> None:
    """One person's updates, each waiting for its reply."""
    if workload == "echo":
        person.push = lambda update: person.deliver_and_wait(update, any_message)  # type: ignore[method-assign]
        for n in range(updates):
            await person.send(f"hello {n} from {person.id}")
        return
    await person.send("/start")
    for _ in range(updates - 1):
        note = person.keyboard()
        if note is None:
            return
        options = [d.split("|")[2] for d in note.data]
        choice = "no" if "no" in options else options[0]
        if workload == "typed":
            await person.send(choice)
        else:
            await person.press(data=note.data[options.index(choice)], on=person.shown(note))


async def one_run(stub: WatchedStub, reader: Reader, workload: str, first_user: int,
                  settings: dict[str, int], tmp: Path) -> dict[str, float]:
    per_user = settings["buttons_updates_per_user" if workload == "buttons"
                        else "updates_per_user"]
    kind = "echo" if workload == "echo" else "backcheck"
    store = f"sqlite:///{tmp / f'{workload}-{first_user}.sqlite3'}"
    bot = await spawn(stub, bot_env(stub, store), tmp / f"{workload}.log",
                      argv=("-m", "bench.bench_telegram", "--serve", kind))
    people = [Person(stub, first_user + i, reader, rng=random.Random(i), timeout=30)
              for i in range(settings["users"])]
    try:
        cpu0, harness0, started = cpu_seconds(bot.pid), time.process_time(), time.perf_counter()
        await asyncio.gather(*(person_run(p, workload, per_user) for p in people))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(bot.pid) - cpu0
        harness = time.process_time() - harness0
    finally:
        await bot.stop()
    updates = sum(p.stats["updates"] for p in people)
    return {"updates": updates, "seconds": seconds, "updates_per_s": updates / seconds,
            "cpu_ms_per_update": 1000 * cpu / updates,
            "bot_cpu_share": cpu / seconds, "harness_cpu_share": harness / seconds,
            "no_reply": sum(p.stats["no_reply"] for p in people)}


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(run_async(QUICK if quick else FULL))


async def run_async(settings: dict[str, int]) -> dict[str, Any]:
    reader = shipped_reader()
    stub = WatchedStub(max_poll=1.0)
    await stub.start()
    runs: dict[str, list[dict[str, float]]] = {w: [] for w in WORKLOADS}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(settings["repeats"]):
                for n, workload in enumerate(WORKLOADS):
                    if workload == "buttons" and rep >= settings["buttons_repeats"]:
                        continue
                    first = 10_000_000 + (rep * len(WORKLOADS) + n) * 100_000
                    runs[workload].append(
                        await one_run(stub, reader, workload, first, settings, Path(tmp)))
    finally:
        await stub.close()
    return summarize(runs, settings)


def summarize(runs: dict[str, list[dict[str, float]]], settings: dict[str, int]
              ) -> dict[str, Any]:
    out: dict[str, Any] = {"settings": settings, "runs": runs, "median": {}, "ratio": {}}
    for workload, rows in runs.items():
        out["median"][workload] = {k: median([r[k] for r in rows]) for k in rows[0]}
    for workload in ("typed", "buttons"):
        pairs = list(zip(runs[workload], runs["echo"], strict=False))  # same repetition
        out["ratio"][workload] = {  # per repetition, then the median: robust to drift
            "updates_per_s": median([b["updates_per_s"] / e["updates_per_s"] for b, e in pairs]),
            "cpu_ms_per_update": median([b["cpu_ms_per_update"] / e["cpu_ms_per_update"]
                                         for b, e in pairs]),
        }
    return out


def table(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [f"Telegram end to end: {s['users']} people at once, each waiting for every "
             f"reply; {s['updates_per_user']} updates each ({s['buttons_updates_per_user']} "
             f"for presses), median of {s['repeats']} run(s) ({s['buttons_repeats']} for "
             "presses)",
             f"{'bot':<28}{'updates/s':>12}{'CPU ms/update':>15}{'vs echo (CPU)':>15}"
             f"{'no reply':>10}"]
    names = {"echo": "PTB echo bot", "typed": "backcheck, typed answers",
             "buttons": "backcheck, button presses"}
    for workload in WORKLOADS:
        m = results["median"][workload]
        ratio = results["ratio"].get(workload, {}).get("cpu_ms_per_update", 1.0)
        lines.append(f"{names[workload]:<28}{m['updates_per_s']:>12,.0f}"
                     f"{m['cpu_ms_per_update']:>15.2f}{ratio:>14.1f}x{m['no_reply']:>10.0f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None and "--serve" in sys.argv:
        asyncio.run(serve(sys.argv[sys.argv.index("--serve") + 1]))
        return
    script_main(run, table, __doc__, argv)


if __name__ == "__main__":
    main()
