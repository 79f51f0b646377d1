"""Footprint of `backcheck telegram` with SQLite and with Redis: start-up time to ready,
idle memory, bytes per stored session, and memory growth per 10,000 active sessions.

    python -m bench.bench_footprint [--quick] [--json PATH]   (about 40 s; --quick 15 s)

- start-up: from spawning `backcheck telegram` to its first getUpdates at the stand-in
  Bot API (imports, settings, flow and locales, getMe, the command menu), median of
  several starts.
- idle RSS: the process's resident memory a second after it is ready.
- then, after a warm-up of 200 checks, N people each send /start, which opens a check
  (a stored session) for each; the RSS growth is scaled to 10,000 sessions. Sessions
  live in the store, not the process, so what grows is the libraries' own per-chat
  bookkeeping. This part runs the same Application with PTB's client-side flood limiter
  (Telegram's 30 messages/s) off, as bench_telegram does, so it takes seconds, not
  minutes.
- bytes per session: the SQLite file (write-ahead log folded in) and Redis's
  `used_memory_dataset`, each before and after, divided by N. Redis is a real redis-server
  started for the run (tests/redis_server.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
from drive import Note, Person, WatchedStub, bot_env, shipped_reader, spawn
from redis_server import RedisServer

from bench.common import median, rss_bytes, script_main

FULL = {"sessions": 1000, "starts": 3, "warm_up": 200}
QUICK = {"sessions": 20, "starts": 1, "warm_up": 10}
PER = 10_000
STORES = ("sqlite", "redis")
# backcheck's own Application with PTB's 30 messages/s flood limiter off (see
# bench_telegram), so that opening thousands of checks takes seconds, not minutes.
UNTHROTTLED = ("-m", "bench.bench_telegram", "--serve", "backcheck")


def sqlite_size(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def redis_used(url: str) -> int:
    """Redis's memory for data: `used_memory_dataset`, i.e. used_memory without client
    buffers, the append-only-file buffer and other overhead, which swing by megabytes."""
    with redis.Redis.from_url(url) as client:
        return int(client.info("memory")["used_memory_dataset"])


def has_question(_: str, note: Note) -> bool:
    return note.kind == "message" and bool(note.data)


async def open_checks(stub: WatchedStub, count: int, first: int) -> int:
    """`count` people send /start at once (in waves of 200); how many got their question."""
    reader = shipped_reader()
    people = [Person(stub, first + i, reader, timeout=60) for i in range(count)]
    for p in people:
        p.push = lambda update, p=p: p.deliver_and_wait(update, has_question)  # type: ignore[method-assign]
    answered = 0
    for wave in range(0, count, 200):
        notes = await asyncio.gather(*(p.send("/start") for p in people[wave:wave + 200]))
        answered += sum(n is not None for n in notes)
    return answered


async def measure(store: str, url: str, size: Any, stub: WatchedStub, tmp: Path,
                  settings: dict[str, int], first: int) -> dict[str, Any]:
    env = bot_env(stub, url)
    starts, idle = [], 0
    for _ in range(settings["starts"]):
        bot = await spawn(stub, env, tmp / f"{store}.log")
        starts.append(bot.ready_seconds)
        await asyncio.sleep(1.0)
        idle = rss_bytes(bot.pid)
        await bot.stop()
    bot = await spawn(stub, env, tmp / f"{store}-runner.log", argv=UNTHROTTLED)
    try:
        await asyncio.sleep(1.0)
        runner_idle = rss_bytes(bot.pid)
        warm_up = settings["warm_up"]  # first-use costs (imports, pools) are not per session
        await open_checks(stub, warm_up, first - warm_up)
        warm, before = rss_bytes(bot.pid), size()
        opened = await open_checks(stub, settings["sessions"], first)
        await asyncio.sleep(0.5)
        busy, after = rss_bytes(bot.pid), size()
    finally:
        await bot.stop()
    n = settings["sessions"]
    return {
        "startup_s": median(starts), "startup_runs_s": starts, "idle_rss_mb": idle / 2**20,
        "unthrottled_idle_rss_mb": runner_idle / 2**20, "warm_rss_mb": warm / 2**20,
        "rss_after_mb": busy / 2**20,
        "rss_growth_mb_per_10k_sessions": (busy - warm) / 2**20 * PER / n,
        "bytes_per_session": (after - before) / n, "sessions": n, "sessions_opened": opened,
    }


async def run_async(settings: dict[str, int]) -> dict[str, Any]:
    stub = WatchedStub(max_poll=1.0)
    await stub.start()
    out: dict[str, Any] = {"settings": settings}
    try:
        with tempfile.TemporaryDirectory() as tmp, RedisServer() as server:
            db = Path(tmp) / "sessions.sqlite3"
            out["sqlite"] = await measure("sqlite", f"sqlite:///{db}", lambda: sqlite_size(db),
                                          stub, Path(tmp), settings, 20_000_000)
            out["redis"] = await measure("redis", server.url,
                                         lambda: redis_used(server.url), stub, Path(tmp),
                                         settings, 30_000_000)
    finally:
        await stub.close()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(run_async(QUICK if quick else FULL))


def table(r: dict[str, Any]) -> str:
    n = r["settings"]["sessions"]
    lines = [f"Footprint of `backcheck telegram` ({n:,} sessions opened, scaled to 10,000)",
             f"{'store':<8}{'start-up':>10}{'idle RSS':>11}{'RSS +10k sessions':>19}"
             f"{'bytes/session':>15}"]
    for store in STORES:
        s = r[store]
        lines.append(f"{store:<8}{s['startup_s']:>9.2f}s{s['idle_rss_mb']:>8.1f} MB"
                     f"{s['rss_growth_mb_per_10k_sessions']:>16.1f} MB"
                     f"{s['bytes_per_session']:>15,.0f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    script_main(run, table, __doc__, argv)


if __name__ == "__main__":
    main()
