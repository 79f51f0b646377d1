"""The Telegram adapter, played by pretend users through the real python-telegram-bot
talking HTTP to a stand-in Bot API server on 127.0.0.1 (tests/telegram_stub.py)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram.ext import Application
from telegram_stub import BotApiStub, Shown, Turn, User, fixture, track

from bot.adapters.telegram.outbox import TelegramOutbox
from bot.adapters.telegram.render import (
    MAX_DATA,
    callback_data,
    chunks,
    messages,
    parse_callback,
    shortened,
)
from bot.adapters.telegram.serve import build_application, start, stop
from bot.adapters.telegram.webhook import Webhook
from bot.app import App
from bot.cli import main
from bot.compose import build_app
from bot.config import Settings
from bot.errors import ConfigError
from bot.stores import MemoryStore
from bot.stores.base import SESSION
from bot.types import Button, Reply, SessionKey

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
BOT = "backcheck_test_bot"
TgApp = Application[Any, Any, Any, Any, Any, Any]
Starter = Callable[..., Awaitable[TgApp]]


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def stub(tg_stub: BotApiStub) -> BotApiStub:
    return tg_stub


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@functools.cache
def shipped() -> App:
    """The shipped flow and locales, loaded once for the whole module."""
    return build_app(Settings.from_env({"BACKCHECK_STORE": "memory://"}), store=MemoryStore())


@pytest.fixture
def app(store: MemoryStore) -> App:
    return build_app(Settings(store="memory://"), store,
                     content=(shipped().flow, shipped().locales))


@pytest.fixture
async def launch(stub: BotApiStub, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Starter]:
    """Start bots (polling by default) and, at the end, stop them and check that every
    callback query was answered and that no traceback was logged."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    running: list[TgApp] = []

    async def launch_(app: App, webhook: Webhook | None = None) -> TgApp:
        application = build_application(app, TOKEN, stub.base_url, max_retries=3,
                                        polling=webhook is None)
        track(application, stub)
        await start(application, webhook, poll_timeout=1)
        running.append(application)
        return application

    yield launch_
    for application in running:
        if application.running:
            await stop(application)
    assert not stub.open_queries, "every callback query must be answered"
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


@pytest.fixture
async def bot(launch: Starter, app: App) -> TgApp:
    return await launch(app)


def t(app: App, key: str, lang: str = "en", **params: object) -> str:
    return app.text(lang, key, **params)


def options(message: Shown) -> list[str]:
    """The option ids (or command names) behind a message's buttons."""
    return [b["callback_data"].split("|")[2] for b in message.buttons()]


async def choose(user: User, option: str) -> Turn:
    message = user.last_keyboard()
    data = [b["callback_data"] for b in message.buttons() if b["callback_data"].endswith(
        f"|{option}")]
    assert data, f"no option {option!r} in {options(message)}"
    return await user.press(data=data[0], on=message)


async def answer_all(user: User, pick: Callable[[list[str]], str]) -> None:
    """Answer questions by button until the outcome's command buttons appear."""
    for _ in range(40):
        ids = options(user.last_keyboard())
        if "summary" in ids:
            return
        await choose(user, pick(ids))
    raise AssertionError("the check never ended")


def no_then_short(ids: list[str]) -> str:
    return "no" if "no" in ids else ("under_1_week" if "under_1_week" in ids else ids[0])


# -- a whole check -----------------------------------------------------------------------


async def test_red_flag_yes_ends_at_call_112(bot: TgApp, stub: BotApiStub, app: App) -> None:
    user = User(stub, 1001)
    turn = await user.send("/start")
    question = user.last_keyboard()
    assert t(app, "q.cold_pale_foot.text") in question.text
    assert "Question 1 of about" in question.text
    assert [b["text"] for b in question.buttons()] == ["Yes", "No", "Not sure"]
    assert turn.sent()[0].startswith(t(app, "intro")[:20])

    turn = await choose(user, "yes")

    assert turn.toasts() == [""]  # answered at once, no notice
    assert question.text == t(app, "answered", question=t(app, "q.cold_pale_foot.text"),
                              answer="Yes")
    assert question.buttons() == [], "the answered question loses its buttons"
    result = "\n".join(turn.sent())
    assert result.startswith("🚑 Call 112 now")
    assert t(app, "outcome.not_diagnosis") in result
    assert options(user.last_keyboard()) == ["summary", "restart", "faq"]


async def test_no_to_everything_for_under_a_week_is_self_care(bot: TgApp, stub: BotApiStub,
                                                             app: App) -> None:
    user = User(stub, 1002)
    await user.send("/check")
    await answer_all(user, no_then_short)
    shown = "\n".join(user.texts())
    assert t(app, "level.self_care.headline") in shown
    assert all(len(m.text) <= 4096 for m in user.messages())
    answered = [m for m in user.messages() if m.edits]
    assert answered and all("✓" in m.text and not m.buttons() for m in answered)

    turn = await user.press("Summary for my doctor")
    assert t(app, "summary.title", date="")[:10] in turn.sent()[0]


async def test_swedish_from_language_code(bot: TgApp, stub: BotApiStub, app: App) -> None:
    user = User(stub, 1003, lang="sv-SE")
    await user.send("/start")
    question = user.last_keyboard()
    assert t(app, "q.cold_pale_foot.text", "sv") in question.text
    assert [b["text"] for b in question.buttons()][:2] == ["Ja", "Nej"]
    turn = await choose(user, "yes")
    assert "Ring 112 nu" in turn.sent()[0]


async def test_typed_answers_move_on(bot: TgApp, stub: BotApiStub, app: App) -> None:
    user = User(stub, 1004)
    await user.send("/start")
    for n, typed in enumerate(["no", "nej", "2", "No"], start=2):
        turn = await user.send(typed)
        assert turn.edits() == []
        assert f"Question {n} of about" in turn.sent()[-1]
    assert not user.messages()[-1].edits


async def test_nonsense_is_reprompted_with_buttons(bot: TgApp, stub: BotApiStub,
                                                    app: App) -> None:
    user = User(stub, 1005)
    await user.send("/start")
    turn = await user.send("my toes feel like fizzy lemonade")
    assert turn.sent()[0].startswith(t(app, "reprompt"))
    assert "Question 1 of about" in turn.sent()[0]
    assert options(user.last_keyboard()) == ["yes", "no", "unsure"]


async def test_long_message_is_answered_not_crashed(bot: TgApp, stub: BotApiStub,
                                                    app: App) -> None:
    user = User(stub, 1006)
    await user.send("/start")
    turn = await user.send("ouch " * 1000)
    assert turn.sent() and turn.sent()[0].startswith(t(app, "reprompt"))
    assert all(len(text) <= 4096 for text in turn.sent())


async def test_stickers_photos_voice_and_edits_get_a_short_note(bot: TgApp, stub: BotApiStub,
                                                               app: App) -> None:
    user = User(stub, 1007)
    for name in ("sticker", "photo", "voice", "edited_message"):
        turn = await user.send_fixture(name)
        assert turn.sent() == [t(app, "telegram.unsupported")]


# -- buttons that no longer apply --------------------------------------------------------


async def test_double_press_and_old_buttons_are_stale(bot: TgApp, stub: BotApiStub,
                                                      app: App) -> None:
    user = User(stub, 1008)
    await user.send("/start")
    first = user.last_keyboard()
    no = [b["callback_data"] for b in first.buttons() if b["callback_data"].endswith("|no")][0]
    await user.press(data=no, on=first)
    second = user.last_keyboard()
    assert "Question 2 of about" in second.text

    again = await user.press(data=no, on=first)  # pressed twice
    assert again.toasts() == [t(app, "stale")]
    assert again.sent() == [] and again.edits() == []

    turn = await choose(user, "no")  # the current question still works, once
    assert "Question 3 of about" in turn.sent()[-1]
    stale = await user.press(data=callback_data(Button("answer", "yes", ""), "x"), on=second)
    assert stale.toasts() == [t(app, "stale")] and stale.sent() == []


async def test_forged_callback_data_is_only_a_stale_notice(bot: TgApp, stub: BotApiStub,
                                                           app: App) -> None:
    user = User(stub, 1009)
    await user.send("/start")
    question = user.last_keyboard()
    for data in ("", "garbage", "a|tok|", "x|tok|yes", "a|<script>|yes", "a|t|../../x",
                 "a" * 64, "c|zzz.9|restart", "a|zzz.0|yes"):
        turn = await user.press(data=data, on=question)
        assert turn.toasts() == [t(app, "stale")], data
        assert turn.sent() == [] and turn.edits() == [], data
    assert question.buttons(), "the real question is untouched"


async def test_forget_then_an_old_button_reopens_nothing(bot: TgApp, stub: BotApiStub,
                                                         app: App, store: MemoryStore) -> None:
    user = User(stub, 1010)
    await user.send("/start")
    await choose(user, "no")
    question = user.last_keyboard()
    turn = await user.send("/forget")
    assert turn.sent() == [t(app, "commands.forgotten")]
    assert await store.scan(SESSION) == []

    yes = [b["callback_data"] for b in question.buttons() if b["callback_data"].endswith("|yes")]
    turn = await user.press(data=yes[0], on=question)
    assert turn.toasts() == [t(app, "stale")]
    assert turn.sent() == [] and turn.edits() == []


# -- commands --------------------------------------------------------------------------


async def test_commands_menu_in_english_and_swedish(bot: TgApp, stub: BotApiStub,
                                                    app: App) -> None:
    calls = stub.calls_of("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "sv"]
    english = {c["command"]: c["description"] for c in calls[0].params["commands"]}
    swedish = {c["command"]: c["description"] for c in calls[1].params["commands"]}
    assert set(english) == set(swedish) >= {"check", "back", "restart", "stop", "language",
                                             "help", "faq", "privacy", "forget"}
    assert english["check"] == t(app, "menu.check")
    assert swedish["check"] == t(app, "menu.check", "sv")
    assert english["check"] != swedish["check"]


async def test_language_back_and_help_commands(bot: TgApp, stub: BotApiStub, app: App) -> None:
    user = User(stub, 1011)
    await user.send("/start")
    await choose(user, "no")
    turn = await user.send("/language sv")
    assert turn.sent()[0].startswith(t(app, "language_switched", "sv"))
    assert [b["text"] for b in user.last_keyboard().buttons()][:2] == ["Ja", "Nej"]
    turn = await user.send("/language")
    assert turn.sent()[0].startswith(t(app, "language_switched", "en"))
    turn = await user.send("/back")
    assert turn.sent()[0].startswith(t(app, "went_back"))
    assert "Question 1 of about" in turn.sent()[0]
    turn = await user.send("/help@" + BOT)
    assert turn.sent()[0].startswith(t(app, "help.intro")[:30])
    turn = await user.send("/stop")
    assert turn.sent() == [t(app, "stopped")]


# -- groups ----------------------------------------------------------------------------


async def test_group_start_offers_a_private_chat_and_no_question(bot: TgApp, stub: BotApiStub,
                                                                 app: App) -> None:
    group = {"id": -1001234567890, "title": "Office wellness", "type": "supergroup"}
    user = User(stub, 1012, lang="sv", chat=group)
    for command in ("/start", f"/check@{BOT}", "/help"):
        turn = await user.send(command)
        assert turn.sent() == [t(app, "shared.redirect", "sv")]
        message = user.messages()[-1]
        assert message.buttons() == [{"text": t(app, "shared.button", "sv"),
                                      "url": f"https://t.me/{BOT}?start=check"}]
    chatter = await user.send("my back hurts after the move, anyone else?")
    assert chatter.calls == []
    other_bot = await user.send("/start@some_other_bot")
    assert other_bot.calls == []
    turn = await user.press(data="a|tok|yes", on=user.messages()[-1])
    assert turn.toasts() == [""] and turn.sent() == [t(app, "shared.redirect", "sv")]
    assert not any(t(app, "q.cold_pale_foot.text", lang) in text
                   for text in user.texts() for lang in ("en", "sv"))


async def test_channel_command_gets_the_link_and_posts_are_ignored(
        bot: TgApp, stub: BotApiStub, app: App) -> None:
    channel = {"id": -1009876543210, "title": "Wellness news", "type": "channel"}

    async def post(text: str) -> list[str]:
        before = len(stub.calls)
        body: dict[str, Any] = {"message_id": 7, "date": 1718000000, "chat": channel,
                                "sender_chat": channel, "text": text}
        if text.startswith("/"):
            body["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
        await stub.wait_processed(stub.push({"channel_post": body}))
        return [c.params["text"] for c in stub.calls[before:] if c.method == "sendMessage"]

    assert await post("/start") == [t(app, "shared.redirect")]
    assert await post("Stretch break at 15:00!") == []


# -- transport -------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_retry_after_still_delivers(bot: TgApp, stub: BotApiStub,
                                                        app: App) -> None:
    user = User(stub, 1013)
    stub.fail_next("sendMessage", times=1)
    turn = await user.send("/start")
    sends = [c for c in turn.calls if c.method == "sendMessage"]
    assert [c.status for c in sends] == [429, 200]
    assert sends[0].params["text"] == sends[1].params["text"]
    assert "Question 1 of about" in user.last_keyboard().text


async def test_a_question_that_cannot_be_edited_does_not_stop_the_next(
        bot: TgApp, stub: BotApiStub, app: App) -> None:
    user = User(stub, 1018)
    await user.send("/start")
    stub.fail_next("editMessageText", body={"ok": False, "error_code": 400,
                                            "description": "Bad Request: message can't be edited"})
    turn = await choose(user, "no")
    assert turn.toasts() == [""]
    assert "Question 2 of about" in turn.sent()[-1]
    assert not any(m.startswith(t(app, "errors.resync")) for m in turn.sent())


async def test_a_failed_send_is_logged_by_type_and_apologised_for(
        bot: TgApp, stub: BotApiStub, app: App, caplog: pytest.LogCaptureFixture) -> None:
    user = User(stub, 1017)
    await user.send("/start")
    stub.fail_next("sendMessage", body={"ok": False, "error_code": 400,
                                        "description": "Bad Request: chat not found"})
    turn = await user.send("my secret symptom")
    (apology,) = turn.sent()
    assert apology.startswith(t(app, "errors.resync")) and "Question 1 of about" in apology
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("backcheck")]
    assert any("BadRequest" in m for m in ours)
    assert not any("secret symptom" in m or "1017" in m for m in ours)
    turn = await user.send("no")  # the bot carries on
    assert "Question 2 of about" in turn.sent()[-1]


async def test_chats_are_served_concurrently_and_in_order(bot: TgApp, stub: BotApiStub,
                                                          app: App) -> None:
    users = [User(stub, 2000 + i) for i in range(5)]
    await asyncio.gather(*(u.send("/start") for u in users))
    for _ in range(3):
        await asyncio.gather(*(u.send("no") for u in users))
    for u in users:
        assert "Question 4 of about" in u.last_keyboard().text

    stub.slow_next("sendMessage", [1.0])
    slow = asyncio.create_task(users[0].send("no"))  # its reply is stuck on a slow network
    await asyncio.sleep(0.2)
    await users[1].send("no")  # another chat is not held up by it
    assert not slow.done()
    await slow


async def test_a_burst_from_one_chat_is_handled_in_order(bot: TgApp, stub: BotApiStub,
                                                         app: App) -> None:
    user = User(stub, 1020)
    updates = []
    for text in ("/start", "no", "no", "no", "no"):
        update = fixture("message_text")
        update["message"].update(chat=user.chat, text=text, **{"from": user.sender})
        if text.startswith("/"):
            update["message"]["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
        updates.append(update)
    stub.slow_next("sendMessage", [0.4, 0.3, 0.2, 0.1])  # earlier replies travel slower
    ids = [stub.push(u) for u in updates]  # all queued before the bot fetches any
    for update_id in ids:
        await stub.wait_processed(update_id)
    progress = [re.findall(r"Question (\d+) of about", text) for text in user.texts()]
    assert progress == [["1"], ["2"], ["3"], ["4"], ["5"]]


async def test_restart_mid_check_resumes_at_the_same_question(
        launch: Starter, stub: BotApiStub, tmp_path: Path) -> None:
    settings = Settings.from_env({"BACKCHECK_STORE": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    first = build_app(settings)
    application = await launch(first)
    user = User(stub, 1014)
    await user.send("/start")
    await choose(user, "no")
    await choose(user, "no")
    question = user.last_keyboard()
    assert "Question 3 of about" in question.text
    await stop(application)
    await first.store.close()

    second = build_app(settings)
    await launch(second)
    turn = await user.send("/start")
    assert turn.sent()[0].startswith(t(second, "welcome_back"))
    assert "Question 3 of about" in turn.sent()[0]
    no = [b["callback_data"] for b in question.buttons() if b["callback_data"].endswith("|no")]
    turn = await user.press(data=no[0], on=question)  # a button from before the restart
    assert question.text.endswith("✓ No")
    assert "Question 4 of about" in turn.sent()[-1]
    await second.store.close()


async def test_webhook_needs_the_secret_token(launch: Starter, stub: BotApiStub,
                                              app: App, unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    hook = Webhook(url, "s3cret-token_1", unused_tcp_port, listen="127.0.0.1")
    await launch(app, hook)
    assert stub.webhook == {"url": url, "secret_token": "s3cret-token_1"}

    async with aiohttp.ClientSession() as http:
        async def post(update: dict[str, Any], secret: str | None) -> int:
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
            async with http.post(url, json=update, headers=headers) as response:
                return response.status

        async def deliver(update: dict[str, Any]) -> int:
            assert await post(update, "s3cret-token_1") == 200
            return int(update["update_id"])

        user = User(stub, 1015, deliver=deliver)
        await user.send("/start")
        assert "Question 1 of about" in user.last_keyboard().text

        before = len(stub.calls)
        intruder = stub.stamp({"message": {"message_id": 1, "date": 0, "text": "/start",
                                           "chat": {"id": 1016, "type": "private"}}})
        assert await post(intruder, None) == 403
        assert await post(intruder, "wrong") == 403
        await asyncio.sleep(0.1)
        assert stub.calls[before:] == []

        # The same port serves /healthz, no secret needed; never /metrics (bot/ops.py).
        base = url.removesuffix("/telegram")
        async with http.get(f"{base}/healthz") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})
        async with http.get(f"{base}/metrics") as response:
            assert response.status == 404


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"message": {}}',
                                  b'{"update_id": "7"}', b"null"])
async def test_a_webhook_body_that_is_no_update_gets_400(
        launch: Starter, stub: BotApiStub, app: App, unused_tcp_port: int, body: bytes) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    await launch(app, Webhook(url, "s3cret", unused_tcp_port, listen="127.0.0.1"))
    before = len(stub.calls)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(url, data=body,
                                                         headers=headers) as response:
        assert response.status == 400
        assert "Traceback" not in await response.text()
    await asyncio.sleep(0.1)
    assert stub.calls[before:] == []


async def test_rejected_token_is_a_config_error(stub: BotApiStub, app: App) -> None:
    application = build_application(app, "7000000001:" + "B" * 35, stub.base_url)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        await start(application)


async def test_backcheck_telegram_runs_until_sigterm_and_never_logs_the_token(
        stub: BotApiStub) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": stub.base_url,
           "BACKCHECK_STORE": "memory://", "BACKCHECK_LOG_LEVEL": "DEBUG"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "telegram", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    user = User(stub, 1019)
    update = stub.push({"message": {"message_id": 1, "date": 1718000000, "text": "/start",
                                    "from": user.sender, "chat": user.chat,
                                    "entities": [{"offset": 0, "length": 6,
                                                  "type": "bot_command"}]}})
    for _ in range(200):
        if user.messages():
            break
        await asyncio.sleep(0.05)
    assert "Question 1 of about" in user.last_keyboard().text, update
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    logged = out.decode() + err.decode()
    assert "running (long polling)" in logged
    assert TOKEN.split(":")[1] not in logged and "Traceback" not in logged
    assert "foot" not in logged and "1019" not in logged  # no health content, no user id


async def test_unreachable_api_is_a_config_error(app: App, unused_tcp_port: int) -> None:
    application = build_application(app, TOKEN, f"http://127.0.0.1:{unused_tcp_port}/bot")
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL"):
        await start(application)


async def test_real_payloads_as_telegram_sends_them(bot: TgApp, stub: BotApiStub,
                                                    app: App) -> None:
    await stub.wait_processed(stub.push(fixture("message_command")))  # "/start check"
    assert t(app, "q.cold_pale_foot.text") in stub.messages(1111111)[-1].text
    await stub.wait_processed(stub.push(fixture("group_command")))  # /start@bot, Swedish
    assert [m.text for m in stub.messages(-1001234567890)] == [t(app, "shared.redirect", "sv")]
    await stub.wait_processed(stub.push(fixture("group_chatter")))
    assert len(stub.messages(-1001234567890)) == 1


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "abc", "123:short", "notdigits:" + "A" * 35])
def test_bad_token_exits_2_naming_the_variable(token: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    assert main(["telegram"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err
    assert token[-6:] not in err or not token


def test_webhook_without_secret_exits_2(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert main(["telegram", "--webhook-url", "https://bot.example.org/tg"]) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


# -- rendering -------------------------------------------------------------------------


def test_every_button_of_the_flow_fits_in_64_bytes(app: App) -> None:
    token = "A" * 8 + ".99999"
    values = [o.id for n in app.flow.nodes.values() for o in n.options]
    buttons = [Button("answer", v, v) for v in values]
    buttons += [Button("command", c, c) for c in ("summary", "restart", "faq", "language sv")]
    for button in buttons:
        data = callback_data(button, token)
        assert len(data.encode()) <= MAX_DATA, data
        press = parse_callback(data)
        assert press is not None and press.value == button.value and press.token == token


def test_long_outcomes_are_split_between_sections_and_at_line_breaks() -> None:
    sections = ("headline", "x" * 3000, "y" * 2000, ("line\n" * 1000).strip())
    reply = Reply("outcome", "\n\n".join(sections), (Button("command", "faq", "Q&A"),),
                  token="t.1", sections=sections)
    sent = messages(reply)
    assert [len(text) <= 4096 for text, _ in sent] == [True] * len(sent)
    assert sent[0][0] == "headline\n\n" + "x" * 3000
    assert sent[1][0].startswith("y" * 2000)
    assert all(text.endswith(("line", "y")) for text, _ in sent[1:])
    assert [markup is not None for _, markup in sent] == [False] * (len(sent) - 1) + [True]
    assert "".join(chunks("z" * 9000)) == "z" * 9000



# -- Telegram's unit: UTF-16 code units ---------------------------------------------------


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("seed", range(6))
async def test_every_message_of_a_random_check_fits_telegrams_limit_in_utf16_units(
        bot: TgApp, stub: BotApiStub, seed: int) -> None:
    """Random checks in both languages, then the summary and the Q&A: the stand-in Bot API
    (which refuses a text over 4,096 UTF-16 code units, as Telegram does) takes every one."""
    rng = random.Random(seed)
    user = User(stub, 4100 + seed, lang=("en", "sv")[seed % 2])
    await user.send("/start")
    await answer_all(user, rng.choice)
    await choose(user, "summary")
    await user.send("/faq")
    sends = stub.calls_of("sendMessage", user.id)
    assert sends and all(c.status == 200 for c in sends), [c.status for c in sends]
    assert max(utf16(c.params["text"]) for c in sends) <= 4096


async def test_a_result_full_of_emoji_is_packed_in_utf16_units_and_telegram_takes_it(
        stub: BotApiStub, app: App) -> None:
    """A result whose sections add up to exactly 4,096 characters, three of them emoji
    (two UTF-16 units each), reaches the person whole, through python-telegram-bot into
    the stand-in Bot API that refuses 4,097 units with "message is too long"."""
    head = "🚑 Call 112 now"
    body = "🚨 " + "x" * 1000
    tail_len = 4096 - len(head) - len(body) - 4 - 2
    sections = (head, body, "🏠 " + "y" * tail_len)
    assert len("\n\n".join(sections)) == 4096 and utf16("\n\n".join(sections)) == 4099
    reply = Reply("outcome", "\n\n".join(sections), (Button("command", "faq", "Q&A"),),
                  token="t.1", sections=sections)
    application = build_application(app, TOKEN, stub.base_url, max_retries=3)
    await application.initialize()
    try:
        await TelegramOutbox(application.bot).send(SessionKey("telegram", "7", "4200", "4200"),
                                                   [reply])
    finally:
        await application.shutdown()
    sent = [c.params["text"] for c in stub.calls_of("sendMessage", 4200)]
    assert [utf16(text) <= 4096 for text in sent] == [True, True]
    assert "\n\n".join(sent) == reply.text


@pytest.mark.parametrize("text", ["🚑" * 3000, "a" + "🚑" * 2048, "x" * 5000, "🏠 kort"])
def test_an_edited_message_or_a_toast_is_cut_in_utf16_units_never_mid_emoji(text: str) -> None:
    for limit in (4096, 200):
        cut = shortened(text, limit)
        assert utf16(cut) <= limit and text.startswith(cut)
        assert utf16(cut) >= min(utf16(text), limit - 1)  # as much as fits
        cut.encode("utf-8")  # a whole character, never half a surrogate pair
