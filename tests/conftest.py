"""Shared pytest fixtures."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from drive import SECRET_KEY
from redis_server import RedisServer, RedisServerMissing
from slack_stub import SVEN, SlackStub, assert_valid_blocks
from telegram_stub import BotApiStub

_BEFORE = pytest.StashKey[str | None]()


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


# The operator's own settings: never seen by a test (the same prefixes the bots read).
OPERATOR_PREFIXES = ("BACKCHECK_", "TELEGRAM_", "SLACK_", "REDIS_PASSWORD", "REDISCLI_AUTH")
HOME_VARIABLES = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
              ) -> None:
    """No test reads the developer's `.env` (filled in for docker compose, say), their
    BACKCHECK_* / TELEGRAM_* / SLACK_* variables or their data directory: those variables
    are cleared, BACKCHECK_ENV_FILE names a file that does not exist, and HOME and the XDG
    directories (where the terminal keeps its store and key file) are the test's own.
    Subprocesses inherit all of this. tests/test_hermetic.py proves it."""
    for name in list(os.environ):
        if name.startswith(OPERATOR_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in HOME_VARIABLES:
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("BACKCHECK_ENV_FILE", str(home / "no-such.env"))
    # One fixed key (the bots refuse to start without one; no key file is made).
    monkeypatch.setenv("BACKCHECK_SECRET_KEY", SECRET_KEY)


def _worktree_state() -> str | None:
    """What `git status` and `git diff` say about the checkout, or None outside one."""
    root = Path(__file__).resolve().parent.parent
    try:
        status = subprocess.run(["git", "status", "--porcelain", "-uall"], cwd=root,
                                capture_output=True, text=True, timeout=30, check=True)
        diff = subprocess.run(["git", "diff", "--binary", "HEAD"], cwd=root,
                              capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return status.stdout + hashlib.sha256(diff.stdout).hexdigest()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _worktree_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run fails if it changed the checkout: no test writes a tracked file (or leaves
    an untracked one). `.ci/run` also checks that `git status` is clean after `make test`."""
    before, after = session.config.stash.get(_BEFORE, None), _worktree_state()
    if before is not None and after is not None and after != before:
        changed = subprocess.run(["git", "status", "--short"], capture_output=True,
                                 text=True, cwd=Path(__file__).resolve().parent.parent).stdout
        print(f"\nThe tests changed the checkout (git status):\n{changed}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
