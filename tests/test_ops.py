"""Health, metrics and logs: what the person deploying backcheck sees of it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from redis_server import RedisServer
from support import TestBot, make_app, run_check

from bot.app import App
from bot.compose import build_app
from bot.config import Settings
from bot.logs import setup_logging
from bot.ops import (
    add_ops_routes,
    bound_port,
    healthz,
    metrics_of,
    start_ops_server,
)
from bot.stores.redis import RedisStore
from bot.types import Incoming, SessionKey

TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SLACK_TOKEN = "xoxb-1234-5678-backchecktest"
APP_TOKEN = "xapp-1-A0BCKAPP1-1234-backchecktest"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK = "webhook_secret_0123456789"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus exposition, by name and labels."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def served() -> AsyncIterator[tuple[App, str]]:
    """An instrumented App (memory store) with /healthz and /metrics on a free port."""
    app = make_app()
    runner = await start_ops_server(app, "127.0.0.1", 0)
    yield app, f"http://127.0.0.1:{bound_port(runner)}"
    await runner.cleanup()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


# -- /metrics ----------------------------------------------------------------------------


async def test_metrics_count_a_completed_check_by_level(served: tuple[App, str]) -> None:
    app, base = served
    outcome, asked = await run_check({"duration": "over_6_weeks"}, app=app)
    status, content_type, text = await get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    found = samples(text)
    level = outcome["level"]
    assert value(found, "backcheck_checks_started_total", platform="console") == 1
    assert value(found, "backcheck_checks_completed_total", platform="console",
                 level=level) == 1
    handled = 1 + len(asked)  # the start, then one answer per question
    assert value(found, "backcheck_updates_total", platform="console") == handled
    assert value(found, "backcheck_handle_seconds_count", platform="console") == handled
    assert value(found, "backcheck_handle_seconds_bucket", platform="console",
                 le="+Inf") == handled
    assert value(found, "backcheck_updates_in_flight") == 0
    assert not any(name == "backcheck_errors_total" for name, _ in found)


async def test_a_check_counts_once_whatever_happens_after_it(served: tuple[App, str]) -> None:
    app, base = served
    bot = TestBot(app, json_mode=True)
    await bot.start()
    await bot.push('{"answer": "yes"}')  # cold_pale_foot: straight to the outcome
    for line in ('{"command": "summary"}', '{"command": "faq"}', '{"answer": "no"}'):
        await bot.push(line)
    await bot.push('{"command": "restart"}')  # a new check: started only when answered
    found = samples((await get(f"{base}/metrics"))[2])
    assert value(found, "backcheck_checks_started_total", platform="console") == 1
    assert value(found, "backcheck_checks_completed_total", platform="console",
                 level="ambulance") == 1
    await bot.push('{"answer": "no"}')
    found = samples((await get(f"{base}/metrics"))[2])
    assert value(found, "backcheck_checks_started_total", platform="console") == 2


async def test_errors_are_counted_by_platform_and_kind(redis_server: RedisServer) -> None:
    app = make_app(RedisStore(redis_server.url, timeout=0.5))
    metrics = metrics_of(app)
    redis_server.stop()
    key = SessionKey("telegram", "bot", "1", "1")
    replies = await app.handle(Incoming(key, "start"))
    assert replies[0].kind == "error"  # the person gets an apology
    app.report("telegram", "send")
    found = samples(metrics.render().decode())
    assert value(found, "backcheck_errors_total", platform="telegram",
                 kind="store_unavailable") == 1
    assert value(found, "backcheck_errors_total", platform="telegram", kind="send") == 1
    assert value(found, "backcheck_updates_total", platform="telegram") == 1
    await app.store.close()


def test_build_app_composes_metrics_once_and_each_app_has_its_own_registry() -> None:
    first, second = build_app(Settings(store="memory://")), make_app()
    assert metrics_of(first) is metrics_of(first)
    assert metrics_of(first).registry is not metrics_of(second).registry
    # the in-flight tracker outermost, then the metrics; one observer: the metrics
    assert first.middleware[0] == first.in_flight.middleware
    assert len(first.middleware) == 2 and first.observers == (metrics_of(first),)


# -- /healthz ----------------------------------------------------------------------------


async def test_healthz_is_503_while_redis_is_down_and_200_when_it_is_back(
        redis_server: RedisServer) -> None:
    app = build_app(Settings(store=redis_server.url))
    runner = await start_ops_server(app, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
    try:
        assert await get(url) == (200, "application/json; charset=utf-8", '{"status": "ok"}')
        redis_server.stop()
        status, _, body = await get(url)
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "store": "StoreUnavailable"}
        redis_server.start()
        assert (await get(url))[0] == 200
    finally:
        await runner.cleanup()
        await app.store.close()


async def test_healthz_is_503_when_redis_hangs(redis_server: RedisServer) -> None:
    app = make_app(RedisStore(redis_server.url, timeout=5))
    redis_server.pause()
    try:
        status, body = await healthz(app, timeout=0.3)
    finally:
        redis_server.resume()
    assert (status, body) == (503, {"status": "unavailable", "store": "TimeoutError"})
    assert await healthz(app) == (200, {"status": "ok"})
    await app.store.close()


async def test_ops_routes_join_an_adapters_own_http_server() -> None:
    app = make_app()
    web_app = web.Application()

    async def slack_events(request: web.Request) -> web.Response:
        return web.Response(text="slack")

    web_app.router.add_post("/slack/events", slack_events)
    add_ops_routes(web_app, app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{bound_port(runner)}"
    try:
        assert (await get(f"{base}/healthz"))[0] == 200
        assert (await get(f"{base}/metrics"))[0] == 404  # a public port: never metrics
        async with aiohttp.ClientSession() as http, http.post(f"{base}/slack/events") as r:
            assert await r.text() == "slack"
    finally:
        await runner.cleanup()


# -- logs --------------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_logs_of_a_full_check_hold_no_answer_message_text_user_id_or_token(
        log_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(store="memory://", log_level="DEBUG", log_format=log_format,
                        telegram_bot_token=TG_TOKEN, telegram_webhook_secret=WEBHOOK,
                        slack_bot_token=SLACK_TOKEN, slack_app_token=APP_TOKEN,
                        slack_signing_secret=SIGNING)
    handler = setup_logging(settings)
    try:
        app = make_app()
        bot = TestBot(app)
        bot.console.key = SessionKey("console", "local", "terminal", "alice-4711")
        await bot.start()
        shown = bot.pop_all()
        for typed in ("my back hurts since I lifted my grandson", "no", "no", "2", "yes"):
            await bot.push(typed)
            shown += bot.pop_all()
        await bot.push("forget")
        shown += bot.pop_all()
        # What careless code or a chatty library might log: the filter must catch it.
        logging.getLogger("httpx").warning("POST https://api.telegram.org/bot%s/getMe", TG_TOKEN)
        logging.getLogger("backcheck.test").error("tokens %s %s %s, secrets %s %s", SLACK_TOKEN,
                                                  APP_TOKEN, TG_TOKEN, SIGNING, WEBHOOK)
    finally:
        logging.getLogger().removeHandler(handler)
    assert any("emergency department" in text for text in shown)  # the check was complete
    logged = capsys.readouterr().err
    lines = logged.splitlines()
    assert sum("update handled" in line for line in lines) == 7
    assert "[redacted]" in logged
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert {r["level"] for r in records} >= {"debug", "info", "error"}
        handled = [r for r in records if r["message"] == "update handled"]
        assert {r["user"] for r in handled} == {bot.console.key.hashed()}
    forbidden = [TG_TOKEN, TG_TOKEN.split(":")[1], SLACK_TOKEN, APP_TOKEN, SIGNING, WEBHOOK,
                 "alice-4711", "grandson", '"no"', '"yes"', "=no", "=yes"]
    forbidden += [line for text in shown for line in text.splitlines() if len(line) > 12]
    for text in forbidden:
        assert text not in logged, text
