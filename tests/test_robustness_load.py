"""Load: 1,000 people complete checks at once through the Telegram adapter with the Redis
store, then the same through two adapter replicas sharing one Redis. Every person must
end with exactly the answers they gave, and see the outcome `triage.level_of` gives for
them.

What runs: backcheck's own Application (`build_application`: python-telegram-bot, the
adapter's handlers, per-chat locks, concurrent updates) over `App` and a real
redis-server. What does not: the network. Updates go straight into
`application.update_queue`, and the Bot API calls PTB makes are answered by the
stand-in's own handlers in process (`DirectRequest`, a PTB request class), so that
~10,000 updates fit in CI's time; the network, with its faults, is
tests/test_robustness_faults.py's.

Two replicas: Telegram gives each update to exactly one getUpdates caller and confirms
offsets for all, so two pollers cannot share a bot; real replicas sit behind a load
balancer in webhook mode. Here two Applications, each with its own App and its own
RedisStore (own connection pool), get the updates dealt round-robin, as that load
balancer would: one person's consecutive updates land on different replicas, whose
per-chat locks know nothing of each other, so only Redis's compare-and-set keeps a
check consistent. The last test runs that topology for real, smaller: two
`backcheck telegram --webhook-url` processes and round-robin webhook POSTs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from drive import (
    SECRET,
    SECRET_KEY,
    TOKEN,
    BotProcess,
    Person,
    Reader,
    WatchedStub,
    bot_env,
    lost,
    mostly_no,
    spawn,
    webhook_deliverer,
)
from redis_server import free_port
from telegram import Update
from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest
from telegram_stub import JSON_PARAMS, Call
from telegram_stub import BadRequest as ApiError

from bot.adapters.telegram.serve import build_application
from bot.app import App
from bot.compose import build_app
from bot.config import Settings
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import load_locales
from bot.stores import open_sealed
from bot.stores.redis import RedisStore

PEOPLE = 1000


class DirectRequest(BaseRequest):
    """PTB's Bot API calls answered by the stand-in's handlers, in process."""

    def __init__(self, stub: WatchedStub) -> None:
        self.stub = stub

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         **_: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        raw = request_data.json_parameters if request_data is not None else {}
        params = {k: json.loads(v) if k in JSON_PARAMS else v for k, v in raw.items()}
        call = Call(name, params)
        self.stub.calls.append(call)
        try:
            result = await getattr(self.stub, f"_{name.lower()}")(params)
        except ApiError as exc:
            call.status = exc.code
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            return exc.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


@pytest.fixture(scope="module")
def content() -> tuple[Any, Any]:
    locales = load_locales(LOCALES_DIR)
    return load_flow(DEFAULT_FLOW, locales), locales


@pytest.fixture
async def stub() -> AsyncIterator[WatchedStub]:
    server = WatchedStub()
    yield server  # never started: DirectRequest calls its handlers


async def replicas(stub: WatchedStub, content: tuple[Any, Any], url: str, count: int
                   ) -> list[tuple[Any, App]]:
    """`count` started Applications, each with its own App and RedisStore."""
    out = []
    for _ in range(count):
        app = build_app(Settings(store="memory://"), RedisStore(url), content=content)
        application = build_application(app, TOKEN, "http://127.0.0.1:9/bot")
        direct = DirectRequest(stub)
        application.bot._request = (direct, direct)  # the stand-in, without the network
        limiter = application.bot.rate_limiter
        if isinstance(limiter, AIORateLimiter):
            limiter._base_limiter = None  # Telegram's 30 messages/s is not the point here
        await application.initialize()
        await application.start()
        out.append((application, app))
    return out


async def run_crowd(stub: WatchedStub, applications: Sequence[Any], reader: Reader,
                    first: int) -> list[Person]:
    dealer = itertools.cycle(applications)

    async def deliver(update: dict[str, Any]) -> bool:
        application = next(dealer)
        await application.update_queue.put(Update.de_json(update, application.bot))
        return True

    crowd = [Person(stub, first + i, reader, rng=random.Random(i), typed=0.5,
                    deliver=deliver, timeout=120) for i in range(PEOPLE)]
    await asyncio.gather(*(p.check(mostly_no(p.rng, red_flag_yes=0.2, other_yes=0.35))
                           for p in crowd))
    return crowd


async def finish(running: Sequence[tuple[Any, App]], crowd: list[Person], reader: Reader,
                 url: str) -> None:
    for application, app in running:
        await application.stop()
        await application.shutdown()
        await app.store.close()
    store = RedisStore(url)
    try:
        problems = await lost(crowd, store, reader.flow)
    finally:
        await store.close()
    stats = sum((p.stats for p in crowd), Counter())
    assert problems == [], "\n".join(problems[:20])
    assert stats["no_reply"] == stats["errors"] == 0, stats
    # On a starved CPU (CI's two cores, a thousand people at once) a few turns meet a store
    # that took too long: the person gets the kind "try again" reply and does. That is
    # allowed, rarely (at most 5% of updates); a lost or wrong answer never is (above).
    assert stats["retries"] <= stats["updates"] * 0.05, stats
    levels = Counter(next(iter(p.levels)) for p in crowd)
    assert len(levels) >= 4, levels  # the crowd reached most outcomes, not one path


@pytest.mark.parametrize("count", [1, 2], ids=["one replica", "two replicas"])
async def test_a_thousand_people_at_once_each_get_the_outcome_their_answers_call_for(
        count: int, stub: WatchedStub, content: tuple[Any, Any], redis_url: str) -> None:
    reader = Reader(*content)
    running = await replicas(stub, content, redis_url, count)
    crowd = await run_crowd(stub, [a for a, _ in running], reader, 60_000 + 10_000 * count)
    await finish(running, crowd, reader, redis_url)


async def test_two_webhook_replica_processes_share_redis(
        tmp_path: Path, content: tuple[Any, Any], redis_url: str) -> None:
    """The deployed topology: two `backcheck telegram --webhook-url` processes, one
    Redis, updates POSTed round-robin with the secret token, as a load balancer does."""
    reader = Reader(*content)
    stub = WatchedStub()
    await stub.start()
    bots: list[BotProcess] = []
    try:
        urls = []
        for n in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram"
            env = bot_env(stub, redis_url, TELEGRAM_WEBHOOK_SECRET=SECRET)
            bots.append(await spawn(stub, env, tmp_path / f"replica{n}.log", ready="setWebhook",
                                    argv=("-m", "bot.cli", "telegram", "--webhook-url", url,
                                          "--port", str(port))))
            urls.append(url)
        async with aiohttp.ClientSession() as http:
            deliver = webhook_deliverer(http, urls)
            crowd = [Person(stub, 90_000 + i, reader, rng=random.Random(i), typed=0.2,
                            deliver=deliver, timeout=30) for i in range(40)]
            await asyncio.gather(*(p.check(mostly_no(p.rng, red_flag_yes=0.1))
                                   for p in crowd))
        store = open_sealed(redis_url, SECRET_KEY)  # as the bots opened it
        try:
            assert await lost(crowd, store, reader.flow) == []
        finally:
            await store.close()
        assert all(bot.proc.returncode is None for bot in bots)
    finally:
        for bot in bots:
            await bot.stop()
        await stub.close()
