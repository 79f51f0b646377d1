"""Operations through the real adapters: /healthz and /metrics where each mode serves them,
SIGTERM while an update is in flight, and outbound 429s waited out or counted.

Everything talks HTTP to the stand-in Bot API (tests/telegram_stub.py) and Web API
(tests/slack_stub.py) on 127.0.0.1; `backcheck telegram` and `backcheck slack` also run
as real processes for the SIGTERM cases.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from drive import SECRET_KEY
from slack_stub import APP_TOKEN, Signer, SlackStub, command_form
from slack_stub import TOKEN as SLACK_TOKEN
from support import make_app
from telegram_stub import BotApiStub, User, track
from test_ops import samples, value

from bot.adapters.slack import serve as slack_serve
from bot.adapters.slack.serve import create, start_http
from bot.adapters.slack.transport import PatientRateLimitRetry
from bot.adapters.telegram.serve import build_application, serve, start, stop
from bot.adapters.telegram.webhook import Webhook
from bot.config import Settings
from bot.errors import StoreUnavailable
from bot.ops import metrics_of
from bot.stores import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"
ALICE, BOB = "U0ALICE01", "U0BOB0001"


def dm(user: str) -> str:
    """The DM channel the Slack stub opens for a user: a command there gets no notice."""
    return "D" + user[1:]


class DownStore(MemoryStore):
    """A store whose server is gone: every call fails as Redis down would."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    async def ping(self) -> None:
        raise StoreUnavailable("connection refused")

    async def close(self) -> None:
        self.closed = True


class ClosingStore(MemoryStore):
    """A memory store that remembers being closed."""

    closed = False

    async def close(self) -> None:
        self.closed = True


# -- helpers -------------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0
                     ) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET, or (0, "") while nothing listens there."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, await response.text()
    except aiohttp.ClientConnectionError:
        return 0, ""


async def healthy(base: str) -> bool:
    return (await get(f"{base}/healthz"))[0] == 200


async def metrics(base: str) -> dict[Any, float]:
    status, text = await get(f"{base}/metrics")
    assert status == 200
    return samples(text)


def telegram_message(user: User, text: str) -> dict[str, Any]:
    """An update with a private message (a command when it starts with '/')."""
    body: dict[str, Any] = {"message_id": 1, "date": int(time.time()), "text": text,
                            "from": user.sender, "chat": user.chat}
    if text.startswith("/"):
        body["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
    return {"message": body}


def shown(user: User, words: str) -> bool:
    return any(words in text for text in user.texts())


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "SLACK_", "TELEGRAM_"))}
    return {**env, "BACKCHECK_ENV_FILE": os.devnull, "BACKCHECK_STORE": "memory://",
            "BACKCHECK_SECRET_KEY": SECRET_KEY,
            "BACKCHECK_SHUTDOWN_TIMEOUT": "10", **extra}


async def backcheck(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def sigterm_in_process(task: asyncio.Task[None]) -> None:
    """Stop an in-process `serve` as `docker compose stop` would."""
    assert not task.done(), "serve ended early"  # else SIGTERM would end the test run
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 15)


@pytest.fixture
def stub(tg_stub: BotApiStub) -> BotApiStub:
    return tg_stub


def slack_settings(stub: SlackStub, **more: Any) -> Settings:
    return Settings(store="memory://", slack_bot_token=SLACK_TOKEN, slack_signing_secret=SIGNING,
                    slack_api_url=stub.api_url, **more)


# -- Telegram ------------------------------------------------------------------------------


async def test_telegram_polling_serves_health_and_metrics_on_the_metrics_port(
        stub: BotApiStub, unused_tcp_port: int) -> None:
    store = ClosingStore()
    app = make_app(store)
    settings = Settings(store="memory://", telegram_bot_token=TG_TOKEN,
                        telegram_api_base_url=stub.base_url, shutdown_timeout=5)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    task = asyncio.create_task(serve(app, settings, None, unused_tcp_port))
    await eventually(lambda: healthy(base))
    assert await get(f"{base}/healthz") == (200, '{"status": "ok"}')

    user = User(stub, 4001)
    stub.push(telegram_message(user, "/start"))
    await eventually(lambda: shown(user, "Question 1 of about"))
    stub.push(telegram_message(user, "yes"))  # a red flag: the check ends at once
    await eventually(lambda: shown(user, "Call 112 now"))

    found = await metrics(base)
    assert value(found, "backcheck_checks_started_total", platform="telegram") == 1
    assert value(found, "backcheck_checks_completed_total", platform="telegram",
                 level="ambulance") == 1
    assert value(found, "backcheck_updates_total", platform="telegram") == 2
    await sigterm_in_process(task)
    assert store.closed and await get(f"{base}/healthz") == (0, "")


async def test_telegram_webhook_port_serves_healthz_503_while_the_store_is_down(
        stub: BotApiStub, unused_tcp_port: int) -> None:
    app = make_app(DownStore())
    application = build_application(app, TG_TOKEN, stub.base_url, polling=False)
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    await start(application, Webhook(url, "s3cret", unused_tcp_port, listen="127.0.0.1"))
    try:
        status, body = await get(f"http://127.0.0.1:{unused_tcp_port}/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "store": "StoreUnavailable"}
        assert (await get(f"http://127.0.0.1:{unused_tcp_port}/metrics"))[0] == 404
    finally:
        await stop(application)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own
async def test_telegram_gives_a_429_up_past_its_patience_and_counts_it(
        stub: BotApiStub) -> None:
    app = make_app()
    application = build_application(app, TG_TOKEN, stub.base_url, patience=0.5)
    track(application, stub)
    await start(application, poll_timeout=1)
    try:
        user = User(stub, 4002)
        stub.fail_next("sendMessage")  # 429, retry after 1 s: longer than the patience
        turn = await user.send("/start")
        assert [c.status for c in turn.calls if c.method == "sendMessage"][0] == 429
        (apology,) = turn.sent()  # at once: where the check stands, with its question
        assert apology.startswith(app.text("en", "errors.resync"))
        assert "Question 1 of about" in apology
        found = samples(metrics_of(app).render().decode())
        assert value(found, "backcheck_errors_total", platform="telegram",
                     kind="rate_limited") == 1
    finally:
        await stop(application)


async def test_sigterm_to_backcheck_telegram_mid_reply_delivers_it_and_exits_0(
        stub: BotApiStub, unused_tcp_port: int) -> None:
    env = clean_env(TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_API_BASE_URL=stub.base_url)
    proc = await backcheck(env, "telegram", "--host", "127.0.0.1",
                           "--metrics-port", str(unused_tcp_port))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    signalled = False
    try:
        await eventually(lambda: healthy(base), timeout=20)
        user = User(stub, 4003)
        stub.slow_next("sendMessage", [1.5])  # the first reply is on a slow network
        stub.push(telegram_message(user, "/start"))
        await eventually(lambda: bool(stub.calls_of("sendMessage", 4003)))
        proc.send_signal(signal.SIGTERM)
        signalled = True
        await eventually(lambda: _stopping(base))  # finishing the reply meanwhile
    finally:
        if not signalled:  # a second SIGTERM would end it at once
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    logged = out.decode() + err.decode()
    assert proc.returncode == 0, logged
    assert "Question 1 of about" in user.last_keyboard().text  # every reply was delivered
    assert "all updates in flight finished" in logged and "Traceback" not in logged


async def _stopping(base: str) -> bool:
    return await get(f"{base}/healthz") == (503, '{"status": "stopping"}')


# -- Slack ---------------------------------------------------------------------------------


async def post_signed(url: str, body: str) -> int:
    headers = Signer(SIGNING).headers(body, content_type=FORM)
    async with aiohttp.ClientSession() as http, http.post(url, data=body.encode(),
                                                         headers=headers) as response:
        return response.status


async def test_slack_http_port_serves_healthz_503_while_the_store_is_down(
        slack_stub: SlackStub) -> None:
    bot = create(make_app(DownStore()), slack_settings(slack_stub))
    runner = await start_http(bot, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        status, body = await get(f"{base}/healthz")
        assert (status, json.loads(body)["store"]) == (503, "StoreUnavailable")
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("flag", ["metrics_port", "port"])
async def test_slack_socket_mode_serves_health_and_metrics_on_the_metrics_port_only(
        slack_stub: SlackStub, unused_tcp_port: int, flag: str) -> None:
    settings = slack_settings(slack_stub, slack_app_token=APP_TOKEN, shutdown_timeout=5)
    ports = {"port": None, "metrics_port": None, flag: unused_tcp_port}
    task = asyncio.create_task(slack_serve.serve(settings, "127.0.0.1", **ports))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    await eventually(lambda: healthy(base))
    form = command_form(user_id=ALICE, channel_id=dm(ALICE), text="",
                        response_url=slack_stub.response_url())
    await slack_stub.envelope("slash_commands", dict(urllib.parse.parse_qsl(form)))
    await eventually(lambda: bool(slack_stub.called("chat.postMessage")))
    if flag == "metrics_port":
        found = await metrics(base)
        assert value(found, "backcheck_updates_total", platform="slack") == 1
    else:  # --port: /healthz for the orchestrator, no metrics
        assert (await get(f"{base}/metrics"))[0] == 404
    await sigterm_in_process(task)
    assert await get(f"{base}/healthz") == (0, "")


async def test_slack_honours_retry_after(slack_stub: SlackStub) -> None:
    slack_stub.retry_after = "1"
    slack_stub.rate_limited["chat.postMessage"] = 1
    bot = create(make_app(), slack_settings(slack_stub))
    runner = await start_http(bot, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        started = time.monotonic()
        assert await post_signed(url, command_form(user_id=ALICE, channel_id=dm(ALICE),
                                                   text="")) == 200
        await bot.drain()
        assert time.monotonic() - started >= 1.0  # waited what Retry-After said
        assert len(slack_stub.called("chat.postMessage")) == 2  # the 429, then the retry
    finally:
        await runner.cleanup()


async def test_slack_gives_a_429_up_past_its_patience_and_counts_it(
        slack_stub: SlackStub) -> None:
    slack_stub.retry_after = "5"
    slack_stub.rate_limited["chat.postMessage"] = 5
    app = make_app()
    bot = create(app, slack_settings(slack_stub))
    bot.client.retry_handlers = [PatientRateLimitRetry(patience=1.0)]
    runner = await start_http(bot, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        await post_signed(url, command_form(user_id=ALICE, channel_id=dm(ALICE), text=""))
        await bot.drain()
    finally:
        await runner.cleanup()
    # a 5 s wait is past 1 s: the post is given up, and so is the recovery tried after it
    assert len(slack_stub.called("chat.postMessage")) == 2
    found = samples(metrics_of(app).render().decode())
    assert value(found, "backcheck_errors_total", platform="slack", kind="rate_limited") == 2


async def test_sigterm_to_backcheck_slack_mid_reply_delivers_it_and_exits_0(
        slack_stub: SlackStub, unused_tcp_port: int) -> None:
    env = clean_env(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_SIGNING_SECRET=SIGNING,
                    SLACK_API_URL=slack_stub.api_url)
    proc = await backcheck(env, "slack", "--host", "127.0.0.1", "--port", str(unused_tcp_port))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    signalled = False
    try:
        await eventually(lambda: healthy(base), timeout=20)
        slack_stub.delays["chat.postMessage"] = [1.5]  # the question is on a slow network
        form = command_form(user_id=ALICE, channel_id=dm(ALICE), text="")
        assert await post_signed(f"{base}/slack/events", form) == 200
        await eventually(lambda: bool(slack_stub.called("chat.postMessage")))
        proc.send_signal(signal.SIGTERM)
        signalled = True
        await eventually(lambda: _stopping(base))
        late = command_form(user_id=BOB, channel_id=dm(BOB), text="")
        assert await post_signed(f"{base}/slack/events", late) == 503  # no new requests
    finally:
        if not signalled:  # a second SIGTERM would end it at once
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    logged = out.decode() + err.decode()
    assert proc.returncode == 0, logged
    question = [m for m in slack_stub.channel(dm(ALICE)) if m.buttons()]
    assert question and "Question 1 of about" in question[-1].body()  # delivered
    assert slack_stub.channel(dm(BOB)) == []
    assert "all updates in flight finished" in logged and "Traceback" not in logged


def test_metrics_port_must_be_a_port_number(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    for command in ("telegram", "slack"):
        with pytest.raises(SystemExit) as exited:
            main([command, "--metrics-port", "0"])
        assert exited.value.code == 2
        assert "expected a port number 1-65535" in capsys.readouterr().err
