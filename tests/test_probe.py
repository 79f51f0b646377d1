"""The running bots probed as an attacker would (issue 21): each public port — the web
chat, Slack's HTTP endpoint, the Telegram webhook — started by its real `serve()`, then
asked for what it must not give: the metrics, a 500 for bad input, an address or a
cookie in the logs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from conftest import TG_TOKEN
from slack_stub import SlackStub
from support import make_app
from telegram_stub import BotApiStub

from bot.adapters.slack import serve as slack_serve
from bot.adapters.telegram import serve as telegram_serve
from bot.adapters.telegram.webhook import Webhook
from bot.adapters.web import serve as web_serve
from bot.config import Settings
from bot.errors import ConfigError
from bot.ops import start_metrics

SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK_SECRET = "s3cret-token_1"
PUBLIC = ("web", "slack", "telegram")


@dataclass
class Running:
    """One bot started by its real `serve()`: where its public port and its metrics
    listener are."""

    public: str
    metrics: str
    task: asyncio.Task[None]


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


async def status_of(url: str, **kw: Any) -> int:
    """The status of a GET, or 0 while nothing listens there."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url, **kw) as resp:
            return resp.status
    except aiohttp.ClientConnectionError:
        return 0


async def until_up(url: str) -> None:
    for _ in range(200):
        if await status_of(url) == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def serving(platform: str, settings: Settings, port: int, tg: BotApiStub,
            slack: SlackStub) -> Coroutine[Any, Any, None]:
    """The coroutine `backcheck <platform>` runs, on 127.0.0.1:`port`."""
    if platform == "web":
        return web_serve.serve(settings, "127.0.0.1", port)
    if platform == "slack":
        return slack_serve.serve(settings.replace(slack_bot_token="xoxb-1234-5678-probe",
                                                  slack_signing_secret=SIGNING,
                                                  slack_api_url=slack.api_url),
                                 "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}/telegram"
    webhook = Webhook(url, WEBHOOK_SECRET, port, listen="127.0.0.1")
    tg_settings = settings.replace(telegram_bot_token=TG_TOKEN,
                                   telegram_api_base_url=tg.base_url)
    return telegram_serve.serve(make_app(), tg_settings, webhook)


@pytest.fixture
async def start_bot(tg_stub: BotApiStub, slack_stub: SlackStub
                    ) -> AsyncIterator[Callable[..., Coroutine[Any, Any, Running]]]:
    """`await start_bot(platform, **settings)`: the bot running until the test ends, then
    stopped as `docker compose stop` would (SIGTERM)."""
    started: list[asyncio.Task[None]] = []

    async def start(platform: str, **more: Any) -> Running:
        public, metrics = free_ports(2)
        settings = Settings(store="memory://", shutdown_timeout=5, metrics_port=metrics, **more)
        task = asyncio.create_task(serving(platform, settings, public, tg_stub, slack_stub))
        started.append(task)
        running = Running(f"http://127.0.0.1:{public}", f"http://127.0.0.1:{metrics}", task)
        await until_up(running.public + "/healthz")
        return running

    yield start
    for task in started:
        assert not task.done(), "serve ended early"
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 15)


# -- item 2: no health signal on a public port ---------------------------------------------


@pytest.mark.parametrize("platform", PUBLIC)
async def test_metrics_are_on_their_own_listener_never_on_a_public_port(
        platform: str, start_bot: Callable[..., Coroutine[Any, Any, Running]]) -> None:
    bot = await start_bot(platform)
    assert await status_of(bot.public + "/metrics") == 404
    assert await status_of(bot.public + "/healthz") == 200  # the load balancer's stays
    async with aiohttp.ClientSession() as http, http.get(bot.metrics + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    assert "# TYPE backcheck_checks_completed_total counter" in text
    assert "# TYPE backcheck_updates_total counter" in text
    assert await status_of(bot.metrics + "/healthz") == 200


async def test_the_metrics_listener_is_on_127_0_0_1_unless_told_otherwise() -> None:
    app = make_app()
    (port,) = free_ports(1)
    runner = await start_metrics(app, Settings(store="memory://"), port)
    assert runner is not None
    try:
        assert [address[0] for address in runner.addresses] == ["127.0.0.1"]
    finally:
        await runner.cleanup()


async def test_without_a_metrics_port_metrics_are_not_served_and_the_log_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    assert await start_metrics(make_app(), Settings(store="memory://"), None) is None
    assert "metrics not served: BACKCHECK_METRICS_PORT is not set" in caplog.text


@pytest.mark.parametrize("value", ["0", "65536", "nine", "-1"])
def test_a_wrong_metrics_port_stops_start_up_by_name(value: str) -> None:
    with pytest.raises(ConfigError, match="BACKCHECK_METRICS_PORT"):
        Settings.from_env({"BACKCHECK_METRICS_PORT": value})
    with pytest.raises(ConfigError, match="BACKCHECK_METRICS_HOST"):
        Settings.from_env({"BACKCHECK_METRICS_HOST": "not a host"})


async def test_the_metrics_port_may_not_be_the_public_port() -> None:
    (port,) = free_ports(1)
    settings = Settings(store="memory://", metrics_port=port)
    with pytest.raises(ConfigError, match="BACKCHECK_METRICS_PORT"):
        await web_serve.serve(settings, "127.0.0.1", port)
