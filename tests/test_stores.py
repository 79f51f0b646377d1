"""The store contract, proven the same way on every store (memory, SQLite, Redis), then what
only a real file or a real server can show: two processes, outages, unreadable records."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis_server import RedisServer
from store_worker import answer_list, apply_all

from bot.errors import CorruptRecord, StoreUnavailable, VersionConflict
from bot.keys import Keyring, new_key
from bot.stores import MemoryStore, Store, open_store
from bot.stores.base import FOLLOWUP, PREFS, SESSION, STATS
from bot.stores.redis import RedisStore
from bot.stores.sealed import SealedStore
from bot.stores.sqlite import SqliteStore

# Each store bare, and behind the SealedStore that encrypts it (as `build_app` opens it).
BACKENDS = ["memory", "sqlite", "redis", "sealed-memory", "sealed-sqlite", "sealed-redis"]
# The stores that keep bytes, which a bad disk or a hand edit can spoil (memory keeps objects).
BYTE_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "redis"])
ALICE, BOB = "tg:bot:alice", "tg:bot:bob"
SESSION_DATA: dict[str, Any] = {
    "node": "q7", "lang": "sv", "nonce": "x1Y2z3", "turn": 9,
    "answers": {"pain_where": "low_back", "tingling": "yes", "note": "ont i ryggen, å ä ö"},
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                ) -> AsyncIterator[Store]:
    inner = backend.removeprefix("sealed-")
    if inner == "memory":
        s: Store = MemoryStore()
    elif inner == "sqlite":
        s = SqliteStore(tmp_path / "data" / "sessions.sqlite3")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"))
    if backend.startswith("sealed-"):
        s = SealedStore(s, Keyring.from_text(new_key()))
    yield s
    await s.close()


def spoil(backend: str, request: pytest.FixtureRequest, store: Store, ns: str, key: str) -> None:
    """Overwrite a stored record's bytes with something that is not JSON, as a bad disk,
    a bad migration or a hand edit would."""
    if backend == "sqlite":
        assert isinstance(store, SqliteStore)
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE records SET data = '{\"node\": \"q7\", oops' "
                       "WHERE ns = ? AND key = ?", (ns, key))
    else:
        with redis.Redis.from_url(request.getfixturevalue("redis_url")) as client:
            client.hset(f"bc:{ns}:{key}", "d", '{"node": "q7", oops')


# -- the contract, on every store ------------------------------------------------------------


async def test_put_then_get_round_trips_data_and_version(store: Store) -> None:
    assert await store.get(SESSION, "tg:bot:1:alice") is None
    assert await store.put(SESSION, "tg:bot:1:alice", SESSION_DATA, version=0) == 1
    rec = await store.get(SESSION, "tg:bot:1:alice")
    assert rec is not None and rec.data == SESSION_DATA and rec.version == 1
    assert await store.put(SESSION, "tg:bot:1:alice", {"node": "q8"}, version=1) == 2
    rec = await store.get(SESSION, "tg:bot:1:alice")
    assert rec is not None and rec.data == {"node": "q8"} and rec.version == 2


async def test_stale_version_is_refused_and_changes_nothing(store: Store) -> None:
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    await store.put(SESSION, "k", {"turn": 2}, version=1)
    with pytest.raises(VersionConflict):
        await store.put(SESSION, "k", {"turn": "stale"}, version=1)
    with pytest.raises(VersionConflict):
        await store.put(SESSION, "k", {"turn": "future"}, version=7)
    rec = await store.get(SESSION, "k")
    assert rec is not None and rec.data == {"turn": 2} and rec.version == 2


async def test_version_zero_is_refused_when_the_record_exists(store: Store) -> None:
    await store.put(PREFS, ALICE, {"lang": "sv"}, version=0, person=ALICE)
    with pytest.raises(VersionConflict):
        await store.put(PREFS, ALICE, {"lang": "en"}, version=0, person=ALICE)
    rec = await store.get(PREFS, ALICE)
    assert rec is not None and rec.data == {"lang": "sv"}


async def test_records_expire_after_their_ttl(store: Store) -> None:
    await store.put(SESSION, "short", {"turn": 1}, version=0, ttl=0.2)
    await store.put(SESSION, "long", {"turn": 1}, version=0, ttl=60)
    await store.put(SESSION, "forever", {"turn": 1}, version=0)
    assert await store.get(SESSION, "short") is not None
    await asyncio.sleep(0.35)
    assert await store.get(SESSION, "short") is None
    assert sorted(k for k, _ in await store.scan(SESSION)) == ["forever", "long"]
    with pytest.raises(VersionConflict):
        await store.put(SESSION, "short", {"turn": 2}, version=1)
    assert await store.put(SESSION, "short", {"turn": 2}, version=0) == 1


async def test_a_new_ttl_replaces_the_old_one(store: Store) -> None:
    await store.put(SESSION, "k", {"turn": 1}, version=0, ttl=0.2)
    await store.put(SESSION, "k", {"turn": 2}, version=1)  # no ttl: kept until deleted
    await asyncio.sleep(0.35)
    rec = await store.get(SESSION, "k")
    assert rec is not None and rec.data == {"turn": 2}


async def test_forget_removes_every_record_of_a_person_and_nothing_else(store: Store) -> None:
    for chat in ("1", "2"):
        await store.put(SESSION, f"tg:bot:{chat}:alice", SESSION_DATA, version=0,
                        ttl=60, person=ALICE)
    await store.put(PREFS, ALICE, {"lang": "sv"}, version=0, person=ALICE)
    await store.put(FOLLOWUP, "tg:bot:1:alice", {"due": 1}, version=0, person=ALICE)
    await store.put(SESSION, "tg:bot:3:bob", SESSION_DATA, version=0, ttl=60, person=BOB)
    await store.put(PREFS, BOB, {"lang": "en"}, version=0, person=BOB)
    await store.incr(STATS, "checks")
    # A record that was Alice's and is now Bob's is Bob's: forget(alice) must keep it.
    await store.put(FOLLOWUP, "handed-over", {"due": 2}, version=0, person=ALICE)
    await store.put(FOLLOWUP, "handed-over", {"due": 3}, version=1, person=BOB)

    assert await store.forget(ALICE) == 4

    for ns, key in [(SESSION, "tg:bot:1:alice"), (SESSION, "tg:bot:2:alice"),
                    (PREFS, ALICE), (FOLLOWUP, "tg:bot:1:alice")]:
        assert await store.get(ns, key) is None
    for ns, key in [(SESSION, "tg:bot:3:bob"), (PREFS, BOB), (STATS, "checks"),
                    (FOLLOWUP, "handed-over")]:
        assert await store.get(ns, key) is not None
    assert await store.forget(ALICE) == 0
    assert await store.forget(BOB) == 3
    assert await store.get(STATS, "checks") is not None


async def test_delete_removes_one_record_and_absent_is_fine(store: Store) -> None:
    await store.put(SESSION, "k", {"turn": 1}, version=0, person=ALICE)
    await store.put(SESSION, "other", {"turn": 1}, version=0, person=ALICE)
    await store.delete(SESSION, "k")
    await store.delete(SESSION, "k")
    await store.delete(SESSION, "never-was")
    assert await store.get(SESSION, "k") is None
    assert await store.forget(ALICE) == 1


async def test_scan_lists_the_live_records_of_one_namespace(store: Store) -> None:
    keys = ["tg:bot:1:alice", "a*b", "[x]?", "back\\slash"]
    for i, key in enumerate(keys):
        await store.put(FOLLOWUP, key, {"i": i}, version=0)
    await store.put(SESSION, "tg:bot:1:alice", {"i": 99}, version=0)
    # Namespaces that a careless key layout or SCAN pattern would mix up:
    await store.put("x*", "k", {"ns": "x*"}, version=0)
    await store.put("xy", "k", {"ns": "xy"}, version=0)
    await store.put("a", "b:c", {"ns": "a"}, version=0)
    await store.put("a:b", "c", {"ns": "a:b"}, version=0)

    found = dict(await store.scan(FOLLOWUP))
    assert {k: r.data["i"] for k, r in found.items()} == {k: i for i, k in enumerate(keys)}
    assert all(r.version == 1 for r in found.values())
    assert [(k, r.data) for k, r in await store.scan("x*")] == [("k", {"ns": "x*"})]
    assert [(k, r.data) for k, r in await store.scan("a")] == [("b:c", {"ns": "a"})]
    assert [(k, r.data) for k, r in await store.scan("a:b")] == [("c", {"ns": "a:b"})]
    assert await store.scan("nothing-here") == []


async def test_incr_counts_from_zero_and_adds(store: Store) -> None:
    assert await store.incr(STATS, "checks") == 1
    assert await store.incr(STATS, "checks", 5) == 6
    rec = await store.get(STATS, "checks")
    assert rec is not None and rec.data == {"n": 6}
    await store.put(STATS, "seeded", {"n": 10}, version=0)
    assert await store.incr(STATS, "seeded") == 11


async def test_concurrent_updates_of_one_record_lose_nothing(store: Store) -> None:
    async def increment() -> None:
        while True:
            rec = await store.get(SESSION, "busy")
            n = 0 if rec is None else rec.data["n"]
            try:
                await store.put(SESSION, "busy", {"n": n + 1},
                                version=0 if rec is None else rec.version, ttl=60)
                return
            except VersionConflict:
                await asyncio.sleep(0)

    await asyncio.gather(*(increment() for _ in range(50)))
    rec = await store.get(SESSION, "busy")
    assert rec is not None and rec.data == {"n": 50} and rec.version == 50


async def test_concurrent_incr_loses_nothing(store: Store) -> None:
    await asyncio.gather(*(store.incr(STATS, "hits") for _ in range(50)))
    assert await store.incr(STATS, "hits", 0) == 50


@BYTE_BACKENDS
async def test_an_unreadable_record_raises_corrupt_record_once_then_is_gone(
    store: Store, backend: str, request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store.put(SESSION, "tg:bot:1:alice", SESSION_DATA, version=0, person=ALICE)
    spoil(backend, request, store, SESSION, "tg:bot:1:alice")
    with caplog.at_level(logging.WARNING), pytest.raises(CorruptRecord):
        await store.get(SESSION, "tg:bot:1:alice")
    assert await store.get(SESSION, "tg:bot:1:alice") is None
    assert await store.put(SESSION, "tg:bot:1:alice", {"node": "q1"}, version=0) == 1
    logged = caplog.text
    assert SESSION in logged and "alice" not in logged and "oops" not in logged


@BYTE_BACKENDS
async def test_scan_drops_an_unreadable_record_and_returns_the_rest(
    store: Store, backend: str, request: pytest.FixtureRequest,
) -> None:
    for key in ("good", "bad"):
        await store.put(FOLLOWUP, key, {"due": 1}, version=0)
    spoil(backend, request, store, FOLLOWUP, "bad")
    assert [k for k, _ in await store.scan(FOLLOWUP)] == ["good"]
    assert await store.get(FOLLOWUP, "bad") is None


@BYTE_BACKENDS
async def test_incr_restarts_an_unreadable_counter(
    store: Store, backend: str, request: pytest.FixtureRequest,
) -> None:
    await store.incr(STATS, "checks", 7)
    spoil(backend, request, store, STATS, "checks")
    assert await store.incr(STATS, "checks") == 1


async def test_ping_answers_and_close_is_safe_to_repeat(store: Store) -> None:
    await store.ping()
    await store.close()
    await store.close()


# -- Redis only ----------------------------------------------------------------------------


async def test_redis_expiry_is_redis_own_and_the_person_index_outlives_its_records(
    redis_url: str,
) -> None:
    store = RedisStore(redis_url)
    await store.put(SESSION, "s", {"turn": 1}, version=0, ttl=30, person=ALICE)
    await store.put(SESSION, "t", {"turn": 1}, version=0, ttl=90, person=ALICE)
    with redis.Redis.from_url(redis_url) as client:
        assert 29_000 < client.pttl(f"bc:{SESSION}:s") <= 30_000
        assert 89_000 < client.pttl(f"bc-person:{ALICE}") <= 90_000
        await store.put(PREFS, ALICE, {"lang": "sv"}, version=0, person=ALICE)
        assert client.pttl(f"bc-person:{ALICE}") == -1  # a record without expiry
        assert client.type(f"bc:{SESSION}:s") == b"hash"
    await store.close()


async def test_redis_a_key_of_the_wrong_type_counts_as_unreadable(redis_url: str) -> None:
    store = RedisStore(redis_url)
    with redis.Redis.from_url(redis_url) as client:
        client.set(f"bc:{SESSION}:k", "not a hash")
    with pytest.raises(CorruptRecord):
        await store.get(SESSION, "k")
    assert await store.get(SESSION, "k") is None
    await store.close()


async def test_redis_outage_is_reported_quickly_and_the_store_recovers(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url)
    await store.put(SESSION, "k", {"turn": 1}, version=0, person=ALICE)
    redis_server.stop()
    for attempt in (store.get(SESSION, "k"), store.put(SESSION, "k", {"turn": 2}, version=1),
                    store.ping(), store.incr(STATS, "n"), store.scan(SESSION)):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await attempt
        assert time.monotonic() - started < 3
    redis_server.start()
    rec = await store.get(SESSION, "k")  # the same object, not a new one
    assert rec is not None and rec.data == {"turn": 1}
    assert await store.put(SESSION, "k", {"turn": 2}, version=1) == 2  # scripts reloaded
    await store.ping()
    await store.close()


async def test_redis_hung_server_times_out_and_the_store_recovers(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url, timeout=0.3)
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    redis_server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.put(SESSION, "k", {"turn": 2}, version=1)
        assert time.monotonic() - started < 1.5
    finally:
        redis_server.resume()
    # The write may or may not have landed before the timeout; either way the store works.
    rec = await store.get(SESSION, "k")
    assert rec is not None
    assert await store.put(SESSION, "k", {"turn": 3}, version=rec.version) == rec.version + 1
    await store.close()


# -- SQLite only -------------------------------------------------------------------------------


async def test_sqlite_creates_its_directory_and_a_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sessions.sqlite3"
    store = SqliteStore(path)
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {r[1] for r in db.execute("PRAGMA table_info(records)")} == {
            "ns", "key", "data", "version", "expires_at", "person"}
    # only its owner may read it, nor list the new directories (the WAL shares the mode)
    for made in (path, path.with_name(path.name + "-wal")):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    await store.close()


async def test_sqlite_sweep_deletes_expired_rows(tmp_path: Path) -> None:
    now = [1000.0]
    store = SqliteStore(tmp_path / "s.sqlite3", clock=lambda: now[0], sweep_every=3)
    await store.put(SESSION, "a", {}, version=0, ttl=10)
    await store.put(SESSION, "b", {}, version=0, ttl=100)
    now[0] += 50
    assert await store.get(SESSION, "a") is None
    assert await store.sweep() == 1
    assert await store.sweep() == 0
    now[0] += 100
    await store.put(SESSION, "c", {}, version=0)  # the third write sweeps "b" by itself

    def rows() -> list[str]:
        with sqlite3.connect(store.path) as db:
            return [r[0] for r in db.execute("SELECT key FROM records ORDER BY key")]

    assert rows() == ["c"]
    await store.close()


async def test_sqlite_unopenable_path_is_unavailable_until_it_is_fixed(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    store = SqliteStore(blocker / "sessions.sqlite3")
    for attempt in (store.get(SESSION, "k"), store.put(SESSION, "k", {}, version=0),
                    store.ping()):
        with pytest.raises(StoreUnavailable):
            await attempt
    blocker.unlink()
    assert await store.get(SESSION, "k") is None
    assert await store.put(SESSION, "k", {"turn": 1}, version=0) == 1
    await store.close()


async def test_sqlite_directory_replaced_mid_sequence_then_restored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = SqliteStore(data / "sessions.sqlite3")
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    data.rename(tmp_path / "moved")
    data.write_text("not a directory")  # fails for root too, unlike chmod
    for attempt in (store.get(SESSION, "k"), store.put(SESSION, "k", {}, version=1),
                    store.ping()):
        with pytest.raises(StoreUnavailable):
            await attempt
    data.unlink()
    (tmp_path / "moved").rename(data)
    rec = await store.get(SESSION, "k")  # the same object, not a new one
    assert rec is not None and rec.data == {"turn": 1}
    assert await store.put(SESSION, "k", {"turn": 2}, version=1) == 2
    await store.close()


async def test_sqlite_write_lock_held_elsewhere_is_unavailable_then_clears(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SqliteStore(path, timeout=0.2)
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. a backup or another replica stuck mid-write
    with pytest.raises(StoreUnavailable):
        await store.put(SESSION, "k", {"turn": 2}, version=1)
    rec = await store.get(SESSION, "k")  # WAL: reading still works
    assert rec is not None and rec.data == {"turn": 1}
    other.execute("ROLLBACK")
    other.close()
    assert await store.put(SESSION, "k", {"turn": 2}, version=1) == 2
    await store.close()


async def test_sqlite_a_deleted_file_is_recreated_not_written_into_the_void(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SqliteStore(path)
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert await store.get(SESSION, "k") is None
    await store.put(SESSION, "k", {"turn": 1}, version=0)
    assert path.exists()
    await store.close()


# -- two processes sharing one store -------------------------------------------------------


def _run_two_workers(url: str, tmp_path: Path) -> list[dict[str, int]]:
    """Start two worker processes on the same conversation, release them together, and
    return what each reports."""
    worker = Path(__file__).with_name("store_worker.py")
    procs = []
    for seed in (1, 2):
        answers = tmp_path / f"answers-{seed}.json"
        answers.write_text(json.dumps(answer_list(300, seed)))
        procs.append(subprocess.Popen(
            [sys.executable, str(worker), url, "tg:bot:1:person-1", str(answers)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        ))
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        reports.append(json.loads(out))
    return reports


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_two_processes_apply_every_answer_once_and_in_order(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared' / 'sessions.sqlite3'}"
    else:
        url = request.getfixturevalue("redis_url")
    expected_store = MemoryStore()
    await apply_all(expected_store, "k", answer_list(300, 1))
    expected = await expected_store.get(SESSION, "k")
    assert expected is not None

    reports = await asyncio.to_thread(_run_two_workers, url, tmp_path)

    store = open_store(url)
    final = await store.get(SESSION, "tg:bot:1:person-1")
    await store.close()
    assert final is not None and final.data == expected.data
    assert final.version == 300
    assert sum(r["applied"] for r in reports) == 300
