"""Faults, end to end: `backcheck telegram` runs as its own process against the stand-in
Bot API while people take checks, and the world misbehaves around it.

- Redis is stopped and restarted mid-run;
- the Bot API answers 500, 429 (retry_after) and slowly, at random;
- the bot is killed (SIGKILL: no clean-up at all) mid-check and started again.

People (tests/drive.py) act as people do: when the reply is "try again later" they press
the same button again; when nothing comes or a button is "already answered" they look
where the check stands ("?") and go on from there. Counted at the end, against what the
store holds and what each person was shown: lost answers, answers applied twice, checks
left unfinished, outcomes that differ from `triage.level_of` of the person's answers.
Each must be zero.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from drive import (
    SECRET_KEY,
    BotProcess,
    Person,
    Reader,
    WatchedStub,
    bot_env,
    lost,
    mostly_no,
    spawn,
)
from redis_server import RedisServer

from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import load_locales
from bot.stores import open_sealed
from bot.stores.base import Store

SERVER_ERROR = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
BAD_GATEWAY = {"ok": False, "error_code": 502, "description": "Bad Gateway"}


@pytest.fixture(scope="module")
def reader() -> Reader:
    locales = load_locales(LOCALES_DIR)
    return Reader(load_flow(DEFAULT_FLOW, locales), locales)


@pytest.fixture
async def stub() -> AsyncIterator[WatchedStub]:
    server = WatchedStub(max_poll=0.5)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bots(tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    """Bot processes started by a test: the last one must still be running at the end
    (faults never crash it), and every one is stopped."""
    running: list[BotProcess] = []
    yield running
    alive = bool(running) and running[-1].proc.returncode is None
    for bot in running:
        await bot.stop(timeout=10)
    assert alive or not running, running[-1].tail()


def people(stub: WatchedStub, reader: Reader, count: int, first: int, **kwargs: Any
           ) -> list[Person]:
    return [Person(stub, first + i, reader, rng=random.Random(first + i), **kwargs)
            for i in range(count)]


async def everyone_checks(crowd: list[Person], trouble: Callable[[], Any]) -> Counter[str]:
    """All take a check at once while `trouble` runs; their stats added up."""
    await asyncio.gather(trouble(), *(p.check(mostly_no(p.rng, other_yes=0.4))
                                      for p in crowd))
    return sum((p.stats for p in crowd), Counter())


async def until_answers(crowd: list[Person], count: int) -> None:
    """Wait until the crowd has given `count` answers between them."""
    while sum(len(p.given) for p in crowd) < count:
        await asyncio.sleep(0.05)


async def verify(crowd: list[Person], store: Store, reader: Reader) -> None:
    try:
        problems = await lost(crowd, store, reader.flow)
    finally:
        await store.close()
    traces = {str(p.id): p.trace for p in crowd}
    assert problems == [], "\n".join(
        f"{problem}\n    " + "\n    ".join(traces[problem.split(":")[0]])
        for problem in problems)


# -- Redis goes away and comes back -------------------------------------------------------


async def test_redis_stopped_and_restarted_mid_run_loses_no_answer(
        stub: WatchedStub, reader: Reader, bots: list[BotProcess], redis_server: RedisServer,
        tmp_path: Path) -> None:
    bots.append(await spawn(stub, bot_env(stub, redis_server.url), tmp_path / "bot.log"))
    crowd = people(stub, reader, 12, 41_000, typed=0.3, timeout=5)

    async def outage() -> None:
        await until_answers(crowd, 20)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(redis_server.start)

    stats = await everyone_checks(crowd, outage)
    assert stats["errors"] > 0, "the outage was noticed: people were told to try again"
    await verify(crowd, open_sealed(redis_server.url, SECRET_KEY), reader)


# -- the Bot API answers 500, 429 and slowly ------------------------------------------------


async def test_bot_api_errors_flood_control_and_slowness_lose_no_answer(
        stub: WatchedStub, reader: Reader, bots: list[BotProcess], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
    bots.append(await spawn(stub, bot_env(stub, url), tmp_path / "bot.log"))
    crowd = people(stub, reader, 12, 42_000, typed=0.2, timeout=4)
    rng = random.Random(8)
    injected: Counter[str] = Counter()

    async def chaos() -> None:
        """30 faults, a few a second, then calm: enough that most checks meet several,
        few enough that the bot gets a word in between."""
        await until_answers(crowd, 5)
        for _ in range(30):
            method = rng.choice(["sendMessage", "sendMessage", "editMessageText",
                                 "answerCallbackQuery", "getUpdates"])
            kind = rng.choice(["500", "502", "429", "slow", "slow"])
            if kind == "429":
                stub.fail_next(method)  # Too Many Requests, retry_after 1
            elif kind == "slow":
                stub.slow_next(method, [rng.choice([0.3, 0.8, 1.5, 6.0])])  # 6 s: timed out
            else:
                stub.fail_next(method, body=SERVER_ERROR if kind == "500" else BAD_GATEWAY)
            injected[f"{method} {kind}"] += 1
            await asyncio.sleep(rng.uniform(0.15, 0.35))

    stats = await everyone_checks(crowd, chaos)
    assert sum(injected.values()) == 30, injected
    statuses = Counter(c.status for c in stub.calls)
    assert statuses[500] and statuses[429], statuses
    assert stats["retries"] > 0, stats
    await verify(crowd, open_sealed(url, SECRET_KEY), reader)


# -- the bot is killed mid-check ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_bot_killed_mid_check_and_restarted_resumes_with_nothing_lost(
        kind: str, stub: WatchedStub, reader: Reader, bots: list[BotProcess], tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    url = (request.getfixturevalue("redis_url") if kind == "redis"
           else f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    env = bot_env(stub, url)
    bots.append(await spawn(stub, env, tmp_path / "bot.log"))
    crowd = people(stub, reader, 12, 43_000, typed=0.2, timeout=4)
    kills = 0

    async def crashes() -> None:
        nonlocal kills
        for at in (15, 45):
            await until_answers(crowd, at)
            await bots[-1].kill()  # SIGKILL: no clean-up, no last getUpdates
            kills += 1
            await asyncio.sleep(0.3)
            bots.append(await spawn(stub, env, tmp_path / "bot.log"))

    stats = await everyone_checks(crowd, crashes)
    assert kills == 2 and bots[0].proc.returncode == -9
    assert stats["no_reply"] > 0 or stats["looks"] > 0, "the crashes were felt"
    await verify(crowd, open_sealed(url, SECRET_KEY), reader)


# -- typing an answer again after "something went wrong" answers no unseen question ----


async def test_after_a_lost_question_the_apology_shows_it_so_no_answer_goes_unseen(
        tmp_path: Path) -> None:
    from telegram_stub import BotApiStub, User, track

    from bot.adapters.telegram.serve import build_application, start, stop
    from bot.stores.base import SESSION
    from tests.support import make_app

    stub = BotApiStub("7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1")
    await stub.start()
    app = make_app()
    application = build_application(app, stub.token, stub.base_url)
    track(application, stub)
    await start(application, poll_timeout=1)
    try:
        user = User(stub, 44_001)
        await user.send("/start")
        stub.fail_next("sendMessage", body=SERVER_ERROR)  # the next question is lost
        turn = await user.send("no")
        (apology,) = turn.sent()
        assert apology.startswith(app.text("en", "errors.resync"))
        assert "Question 2 of about" in apology and "cannot stand up or walk" in apology
        await user.send("no")  # answers the question the apology showed
        record = await app.store.get(SESSION, f"telegram:{stub.bot_id}:44001:44001")
        assert record is not None
        assert record.data["answers"] == [["cold_pale_foot", "no"], ["severe_weakness", "no"]]
    finally:
        await stop(application)
        await stub.close()
