"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from drive import SECRET_KEY
from redis_server import RedisServer, RedisServerMissing
from slack_stub import SVEN, SlackStub, assert_valid_blocks
from telegram_stub import BotApiStub


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--pictures", metavar="DIR", default="",
                     help="write the documentation's screenshots into DIR (make pictures: "
                          "docs); by default they go to each test's own directory")


@pytest.fixture
def pictures(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test saves the screenshots the documentation shows: its own tmp directory,
    never a tracked file, unless `make pictures` asks for docs/."""
    chosen = str(request.config.getoption("--pictures"))
    return Path(chosen).resolve() if chosen else tmp_path


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's `.env` (filled for docker compose, say) never leaks into a test."""
    monkeypatch.setenv("BACKCHECK_ENV_FILE", os.devnull)
    # One fixed key (the bots refuse to start without one; no key file is made).
    monkeypatch.setenv("BACKCHECK_SECRET_KEY", SECRET_KEY)


# -- Redis: a real redis-server, never a fake ---------------------------------------------


def _new_redis_server() -> RedisServer:
    """A started server, or a test failure (not a skip) that says how to install one."""
    try:
        server = RedisServer()
    except RedisServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_session_server() -> Iterator[RedisServer]:
    """One redis-server shared by every test in the run; see `redis_url`."""
    server = _new_redis_server()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_session_server: RedisServer) -> str:
    """The URL of an empty Redis database (the shared server, flushed for this test)."""
    with redis.Redis.from_url(redis_session_server.url) as client:
        client.flushall()
    return redis_session_server.url


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may stop and start again."""
    server = _new_redis_server()
    yield server
    server.cleanup()


# -- stand-in platform servers, shared by every adapter test -------------------------------

TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
TG_BOT = "backcheck_test_bot"


@pytest.fixture
async def tg_stub() -> AsyncIterator[BotApiStub]:
    """A stand-in Telegram Bot API on 127.0.0.1 (tests/telegram_stub.py)."""
    server = BotApiStub(TG_TOKEN, username=TG_BOT)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def slack_stub() -> AsyncIterator[SlackStub]:
    """A stand-in Slack Web API on 127.0.0.1 (tests/slack_stub.py); at the end, every
    message and view the bot sent must be valid Block Kit."""
    server = SlackStub(locales={SVEN: "sv-SE"})
    await server.start()
    yield server
    await server.stop()
    assert_valid_blocks(server)
