"""The running bots probed as an attacker would (issue 21): each public port — the web
chat, Slack's HTTP endpoint, the Telegram webhook — started by its real `serve()`, then
asked for what it must not give: the metrics, a 500 for bad input, an address or a
cookie in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from conftest import TG_TOKEN
from drive import SECRET_KEY
from slack_stub import TOKEN as SLACK_TOKEN
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
        return slack_serve.serve(settings.replace(slack_bot_token=SLACK_TOKEN,
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
    """`await start_bot(platform, **settings)`: the bot running until the test ends."""
    started: list[asyncio.Task[None]] = []

    async def start(platform: str, **more: Any) -> Running:
        public, metrics = free_ports(2)
        settings = Settings(**{"store": "memory://", "secret_key": SECRET_KEY,
                               "shutdown_timeout": 5,
                               "metrics_port": metrics, "web_session_rate": 10_000,
                               "web_address_rate": 10_000, **more})
        task = asyncio.create_task(serving(platform, settings, public, tg_stub, slack_stub))
        started.append(task)
        running = Running(f"http://127.0.0.1:{public}", f"http://127.0.0.1:{metrics}", task)
        await until_up(running.public + "/healthz")
        return running

    yield start
    for task in started:  # each stops as on SIGTERM: `run_until_signal` runs its `stop`
        assert not task.done(), "serve ended early"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
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


# -- item 8: bad input gets a 4xx, never a 500 -----------------------------------------------


def deep(levels: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * levels + close * levels


def gzip_of(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


# What an attacker (or a broken client) posts to the web chat's API: (body, extra headers).
WEB_CORPUS: list[tuple[bytes, dict[str, str]]] = [
    *[(body, {}) for body in (
        b"", b"{", b"null", b"[]", b'"text"', b"1", b"\xff\xfe\xfd", b"\xef\xbb\xbf{}",
        b'{"text": ' + deep(3000) + b"}", deep(4000), b'{"a":' * 1300 + b"1" + b"}" * 1300,
        b'{"text": "\\ud800"}', b'{"answer": "\\ud800", "token": "x"}',
        b'{"command": "\\udfff"}', b'{"text": "\\u0000"}', b'{"lang": "\\ud800", "text": "hi"}',
        b'{"answer": 1e999}', b'{"answer": NaN}', b'{"text": Infinity}',
        b'{"answer": "no", "token": {"$gt": ""}}', b'{"answer": ["no"]}',
        b'{"command": "language \\ud800"}', b'{"command": "forget", "token": 5}',
        b'{"text": ' + b"9" * 5000 + b"}", b'{"text": "hi"}'.decode().encode("utf-16"),
        b'{"text": "' + "\U0001f6d1".encode() * 1000 + b'"}', b'{"text": "\\udbff\\udfff"}',
        b'{"command": "language"}', b'{"command": ""}', b'{"answer": ""}', b'{"token": ""}',
    )],
    (b'{"text": "hi"}', {"Content-Encoding": "gzip"}),
    (gzip_of(b'{"text": "hi"}')[:-6], {"Content-Encoding": "gzip"}),
    (b"garbage", {"Content-Encoding": "deflate"}),
    (b"garbage", {"Content-Encoding": "br"}),
    (b"garbage", {"Content-Encoding": "zstd"}),
    (b"garbage", {"Content-Encoding": "x-unknown"}),
    (gzip_of(b" " * 1_000_000), {"Content-Encoding": "gzip"}),  # 1 MB once unpacked
    (gzip_of(deep(4000)), {"Content-Encoding": "gzip"}),
    (b'{"text": "hi"}', {"Content-Type": "text/plain; charset=latin-1"}),
    (b'{"text": "hi"}', {"X-Backcheck-Session": "<script>" * 5 + "abc"}),
    (b'{"text": "hi"}', {"X-Backcheck-Session": "A" * 43}),
    (b'{"text": "hi"}', {"Cookie": "backcheck_session=" + "%ff" * 20}),
    (b'{"text": "hi"}', {"Accept-Language": ";;;q=,,,q=x;q=1e999"}),
]


def slack_corpus() -> list[tuple[bytes, dict[str, str]]]:
    """Malformed Slack requests: unsigned, badly signed, with a timestamp that is no
    number, and signed properly (Slack itself would never send these)."""
    from urllib.parse import quote_from_bytes

    from slack_stub import Signer

    bodies = [b"\xff\xfe", b"payload=null", b"payload=%7B", b"payload=%5B%5D", b"payload=1",
              b"payload=%22x%22", b"payload=%7B%7D", b"payload=" + quote_from_bytes(
                  deep(3000)).encode(), b"payload=%ff%fe", b"{", b"null", b"[]", b"1",
              deep(4000), b'{"type": "url_verification"}', b'{"type": "event_callback"}',
              b'{"type": "event_callback", "event": null}', b"command=/backcheck",
              b"command=/backcheck&user_id=&team_id=", b"a=%ff%fe&=&&==", b""]
    form = "application/x-www-form-urlencoded"
    corpus: list[tuple[bytes, dict[str, str]]] = []
    for body in bodies:
        corpus.append((body, {"Content-Type": form}))  # unsigned
        corpus.append((body, {"Content-Type": form, "X-Slack-Request-Timestamp": "abc",
                              "X-Slack-Signature": "v0=00"}))
        corpus.append((body, {"Content-Type": form, "X-Slack-Request-Timestamp": "1e10",
                              "X-Slack-Signature": "v0=00"}))
        text = body.decode("utf-8", "replace")
        signed = Signer(SIGNING).headers(text, content_type=form)
        corpus.append((text.encode(), signed))
    return corpus


TELEGRAM_CORPUS: list[tuple[bytes, dict[str, str]]] = [
    (body, {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) for body in (
        b"\xff", b"{", b"null", deep(4000), b'{"update_id": 1, "message": "x"}',
        b'{"update_id": "\\ud800"}', b'{"update_id": 1e999}')] + [
    (b'{"update_id": 1}', {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                           "Content-Encoding": "gzip"}),
    (b"\xff", {}),
]


async def post_all(url: str, corpus: list[tuple[bytes, dict[str, str]]],
                   http: aiohttp.ClientSession) -> list[tuple[int, bytes]]:
    """(status, body) for every malformed request, each as its own connection."""
    found = []
    for body, headers in corpus:
        async with http.post(url, data=body, headers=headers) as resp:
            found.append((resp.status, body))
    return found


async def test_no_malformed_request_gets_a_500_from_any_public_port(
        start_bot: Callable[..., Coroutine[Any, Any, Running]],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    web, slack, telegram = [await start_bot(p) for p in PUBLIC]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.get(web.public + "/api/state") as resp:
            assert resp.status == 200
        statuses = await post_all(web.public + "/api/turn", WEB_CORPUS, http)
        async with http.post(web.public + "/api/turn", data=b"{") as resp:  # the localized
            assert resp.status == 400 and (await resp.json())["message"]  # message too
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        statuses += await post_all(web.public + "/api/turn", WEB_CORPUS[:10], http)
        statuses += await post_all(slack.public + "/slack/events", slack_corpus(), http)
        statuses += await post_all(telegram.public + "/telegram", TELEGRAM_CORPUS, http)
    assert len(statuses) >= 50
    failed = [(status, body[:60]) for status, body in statuses if status >= 500]
    assert failed == [], "\n".join(map(repr, failed))
    for bot in (web, slack, telegram):
        async with aiohttp.ClientSession() as http, http.get(bot.metrics + "/metrics") as r:
            assert 'kind="internal"' not in await r.text()
    loud = [r for r in caplog.records if r.levelno >= 40]
    assert loud == [], [r.getMessage() for r in loud]


# -- item 10d: a signed Slack request replayed within its five minutes -----------------------


async def test_a_replayed_slash_command_runs_once_across_two_replicas_on_one_redis(
        slack_stub: SlackStub, redis_url: str) -> None:
    from slack_stub import Signer, command_form

    from bot.adapters.slack.serve import create, start_http
    from bot.stores import open_sealed

    settings = Settings(store=redis_url, slack_bot_token=SLACK_TOKEN,
                        slack_signing_secret=SIGNING, slack_api_url=slack_stub.api_url)
    bots, runners, stores = [], [], []
    for _ in range(2):  # two replicas behind one load balancer, sharing Redis
        stores.append(open_sealed(redis_url, SECRET_KEY))
        bots.append(create(make_app(stores[-1]), settings))
        runners.append(await start_http(bots[-1], "127.0.0.1", 0))
    urls = [f"http://127.0.0.1:{r.addresses[0][1]}/slack/events" for r in runners]
    form = command_form(user_id="U0ALICE01", channel_id="D0ALICE01", text="")
    headers = Signer(SIGNING).headers(form, content_type="application/x-www-form-urlencoded")
    try:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for url in (urls[0], urls[0], urls[1]):  # the captured request, sent three times
                async with http.post(url, data=form.encode(), headers=headers) as resp:
                    statuses.append(resp.status)
                for bot in bots:
                    await bot.drain()
    finally:
        for runner in runners:
            await runner.cleanup()
        for store in stores:
            await store.close()
    assert statuses == [200, 200, 200]  # the replayer learns nothing
    questions = [c for c in slack_stub.called("chat.postMessage") if c.get("blocks")]
    assert len(questions) == 1  # carried out once: one question 1, not three


# -- item 9: logs carry no address, no cookie, no link to a stored row -----------------------


async def raw(base: str, request: bytes) -> bytes:
    """Send raw bytes to the server; what it answered before closing."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionError:
        return b""
    finally:
        writer.close()


def formatted(records: list[Any]) -> str:
    """Every captured line as an operator's log would show it, traceback and fields too."""
    import logging

    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(f"{formatter.format(r)} {r.__dict__.get('user', '')}" for r in records)


async def test_the_running_servers_log_no_address_no_cookie_and_no_row_link(
        start_bot: Callable[..., Coroutine[Any, Any, Running]],
        caplog: pytest.LogCaptureFixture, tmp_path: Any) -> None:
    import sqlite3

    caplog.set_level("DEBUG")
    path = tmp_path / "probe.sqlite3"
    web = await start_bot("web", store=f"sqlite:///{path}", secret_key=SECRET_KEY)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(web.public + "/api/state") as resp:
            question = (await resp.json())["messages"][-1]
        async with http.post(web.public + "/api/turn", json={
                "answer": "no", "token": question["token"]}) as resp:
            assert resp.status == 200
        session = next(c.value for c in http.cookie_jar if c.key == "backcheck_session")
    cookie = f"backcheck_session={session}; pad={'a' * 9000}"
    answers = [
        await raw(web.public, f"GET /api/state HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"
                  .encode()),
        await raw(web.public, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
        await raw(web.public, b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n"),
        await raw(web.public, b"POST /api/turn HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                  b"Content-Encoding: gzip\r\nCookie: backcheck_session=" + session.encode()
                  + b"\r\n\r\ngarbage"),
    ]
    assert all(a.split(b" ")[1].startswith(b"4") for a in answers), answers
    await asyncio.sleep(0.2)
    logged = formatted(caplog.records)
    assert "update handled" in logged and "request refused" in logged
    addresses = [line for line in logged.splitlines()
                 if "127.0.0.1" in line and " on http://127.0.0.1:" not in line]
    assert addresses == []
    assert session not in logged and "pad=aaaa" not in logged
    users = {r.__dict__["user"] for r in caplog.records if r.__dict__.get("user")}
    with sqlite3.connect(path) as db:
        people = {p for (p,) in db.execute("SELECT person FROM records") if p}
    assert users and people
    assert not [(u, p) for u in users for p in people if u in p]  # no log id in any row
