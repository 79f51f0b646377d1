"""How fast each session store is, and how much room a session takes in it.

    python -m bench.bench_stores [--quick]   (from the repository root; about 20 s)

Starts its own redis-server (the same helper the tests use), measures memory://, SQLite
and Redis on this machine, prints a table and writes bench/results_stores.json (not with
--quick). `python -m bench` runs it with the others. The numbers describe this machine;
nothing here passes or fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis

from bot.errors import VersionConflict
from bot.stores import MemoryStore, Store
from bot.stores.base import SESSION
from bot.stores.codec import encode
from bot.stores.redis import RedisStore
from bot.stores.sqlite import SqliteStore
from tests.redis_server import RedisServer

SESSIONS = 2000  # distinct conversations
BUDGET = 1.0  # seconds per measurement at most (QUICK_BUDGET with --quick)
QUICK_BUDGET = 0.1
CONCURRENCY = 16  # conversations taking a turn at once, as under a burst of updates
TTL = 86400.0
RESULTS = Path(__file__).with_name("results_stores.json")


def session(i: int) -> dict[str, Any]:
    """A realistic session near the end of a check: 15 answers given."""
    answers = {f"q{n:02d}": ("yes", "no", "not_sure")[(i + n) % 3] for n in range(15)}
    return {"node": "q15", "answers": answers, "lang": "sv", "nonce": f"n{i:07d}",
            "turn": 16, "started": 1_760_000_000 + i}


def key(i: int) -> str:
    return f"telegram:bot123:{100000 + i}:{100000 + i}"


async def timed(op: Callable[[int], Awaitable[object]], limit: int) -> float:
    """Operations per second of `op(i)` for i = 0, 1, ... within BUDGET seconds."""
    done, started = 0, time.perf_counter()
    while done < limit and time.perf_counter() - started < BUDGET:
        await op(done)
        done += 1
    return done / (time.perf_counter() - started)


async def turns_per_second(store: Store) -> float:
    """Whole turns (read, then compare-and-set write, retried on conflict) per second,
    CONCURRENCY conversations at once."""
    count = 0
    deadline = time.perf_counter() + BUDGET

    async def worker(w: int) -> None:
        nonlocal count
        i = w
        while time.perf_counter() < deadline:
            rec = await store.get(SESSION, key(i % SESSIONS))
            data = session(i) if rec is None else {**rec.data, "turn": rec.data["turn"] + 1}
            try:
                await store.put(SESSION, key(i % SESSIONS), data, ttl=TTL, person=key(i % SESSIONS),
                                version=0 if rec is None else rec.version)
                count += 1
            except VersionConflict:
                continue
            i += CONCURRENCY

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


async def measure(store: Store) -> dict[str, float]:
    """put (create), get, put (update at the read version) and concurrent turns per second."""
    versions: dict[int, int] = {}

    async def create(i: int) -> None:
        versions[i] = await store.put(SESSION, key(i), session(i), version=0, ttl=TTL,
                                      person=key(i))

    async def get(i: int) -> None:
        await store.get(SESSION, key(i % len(versions)))

    async def update(i: int) -> None:
        n = i % len(versions)
        versions[n] = await store.put(SESSION, key(n), session(i), version=versions[n],
                                      ttl=TTL, person=key(n))

    result = {"put_create_per_s": await timed(create, SESSIONS)}
    result["get_per_s"] = await timed(get, 10**9)
    result["put_update_per_s"] = await timed(update, 10**9)
    result["turns_per_s_concurrent"] = await turns_per_second(store)
    return result


def sqlite_bytes(path: str) -> float:
    """Bytes on disk per session, after folding the write-ahead log into the file."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sessions = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    return os.path.getsize(path) / max(1, sessions)


def redis_bytes(url: str) -> dict[str, float]:
    """Redis's own MEMORY USAGE for a session hash, and for a person index with one key."""
    with redis.Redis.from_url(url) as client:
        keys = [k for i in range(0, SESSIONS, 50) if client.exists(k := f"bc:{SESSION}:{key(i)}")]
        usage = [int(client.memory_usage(k, samples=0) or 0) for k in keys]
        index = int(client.memory_usage(f"bc-person:{key(0)}", samples=0) or 0)
        return {"redis_memory_usage_bytes": sum(usage) / len(usage),
                "redis_person_index_bytes": float(index),
                "redis_server_version": client.info("server")["redis_version"]}


def run(quick: bool = False) -> dict[str, Any]:
    """Every store measured (`python -m bench` calls this)."""
    global BUDGET
    budget, BUDGET = BUDGET, QUICK_BUDGET if quick else BUDGET
    try:
        return asyncio.run(measure_all())
    finally:
        BUDGET = budget


async def measure_all() -> dict[str, Any]:
    json_bytes = sum(len(encode(session(i)).encode()) for i in range(SESSIONS)) / SESSIONS
    results: dict[str, Any] = {"environment": {
        "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }, "session_json_bytes": json_bytes, "stores": {}}
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as server:
        sqlite_path = str(Path(tmp) / "sessions.sqlite3")
        stores: dict[str, Store] = {"memory": MemoryStore(), "sqlite": SqliteStore(sqlite_path),
                                    "redis": RedisStore(server.url)}
        for name, store in stores.items():
            results["stores"][name] = await measure(store)
            await store.close()
        results["stores"]["sqlite"]["disk_bytes_per_session"] = sqlite_bytes(sqlite_path)
        results["stores"]["redis"].update(redis_bytes(server.url))
    return results


def table(results: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    columns = ["put_create_per_s", "get_per_s", "put_update_per_s", "turns_per_s_concurrent"]
    lines = [f"{'store':<8}" + "".join(f"{c:>24}" for c in columns)]
    for name, row in results["stores"].items():
        lines.append(f"{name:<8}" + "".join(f"{row[c]:>24,.0f}" for c in columns))
    sqlite, red = results["stores"]["sqlite"], results["stores"]["redis"]
    lines += [
        "",
        f"session record as JSON:      {results['session_json_bytes']:,.0f} bytes",
        f"SQLite file per session:     {sqlite['disk_bytes_per_session']:,.0f} bytes",
        f"Redis MEMORY USAGE, session: {red['redis_memory_usage_bytes']:,.0f} bytes"
        f" (+ {red['redis_person_index_bytes']:,.0f} for a person index of one key)",
        f"(turns: read + compare-and-set write, {CONCURRENCY} conversations at once; "
        f"Python {results['environment']['python']}, SQLite {results['environment']['sqlite']},"
        f" Redis {red['redis_server_version']})",
    ]
    return "\n".join(lines)


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    results = run(quick)
    print(table(results))
    if not quick:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
