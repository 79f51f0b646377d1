"""Wellness channels through the real python-telegram-bot and slack-bolt, against the
stand-in Bot API and Web API servers: tips with their buttons (from `backcheck tips post`
and from a schedule firing on a fake clock), replicas sharing Redis posting once,
follow-ups opted in, delivered once and answered, `forget` cancelling them, and totals
for wellness leads only."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from drive import SECRET_KEY
from slack_stub import TEAM, SlackStub
from slack_stub import TOKEN as SLACK_TOKEN
from slack_stub import Shown as SlackShown
from telegram.ext import Application
from telegram_stub import BotApiStub, User, track
from test_slack import ALICE, SECRET, Slack, dm
from test_telegram import BOT, answer_all, no_then_short
from test_telegram import TOKEN as TG_TOKEN

from bot.adapters.slack import outbox as slack_wellness
from bot.adapters.slack import render as kit
from bot.adapters.slack.bot import SlackBot
from bot.adapters.slack.serve import create, start_http
from bot.adapters.telegram import outbox as telegram_wellness
from bot.adapters.telegram.serve import build_application, start, stop
from bot.app import App
from bot.compose import build_app
from bot.config import Settings
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import Locales, load_locales
from bot.stores import MemoryStore, open_sealed, open_store
from bot.stores.base import Store
from bot.types import Incoming, SessionKey
from bot.wellness import stats
from bot.wellness.scheduler import running
from bot.wellness.settings import WellnessSettings
from tests.support import pick

TgApp = Application[Any, Any, Any, Any, Any, Any]
ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ZoneInfo("Europe/Stockholm")
BEFORE_NINE = dt.datetime(2026, 11, 30, 8, 59, 50, tzinfo=STOCKHOLM)  # a Monday
GROUP = -1001234567890
CHANNELS = ("C0TIPS0001", "C0TIPS0002")
LEAD_TG, LEAD_SLACK = 4242, "U0LEAD001"
ENV = {
    "BACKCHECK_TIPS_CRON": "0 9 * * MON",
    "BACKCHECK_TIPS_TZ": "Europe/Stockholm",
    "BACKCHECK_TIPS_TARGETS": f"slack:{CHANNELS[0]},slack:{CHANNELS[1]},telegram:{GROUP}",
    "BACKCHECK_ADMINS": f"slack:{LEAD_SLACK},telegram:{LEAD_TG}",
}
HEADER = "💡 Back tip of the week\n\n"
BUTTON = "Take the 5-minute check"
ASK = "How are you now?"
POLL = 0.02


class Clock:
    """The App's clock, moved on by the test."""

    def __init__(self, when: dt.datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `check()` holds (the scheduler polls every POLL seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(POLL)


async def rounds(n: int = 10) -> None:
    """Let the background schedulers run a few more rounds."""
    await asyncio.sleep(n * POLL)


@pytest.fixture(scope="module")
def content() -> tuple[Flow, Locales]:
    locales = load_locales(LOCALES_DIR)
    return load_flow(DEFAULT_FLOW, locales), locales


def new_app(content: tuple[Flow, Locales], store: Store, clock: Clock) -> App:
    return build_app(Settings.from_env(ENV), store, content=content, clock=clock,
                     wellness=WellnessSettings.from_env(ENV))


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE_NINE)


@pytest.fixture
def app(content: tuple[Flow, Locales], clock: Clock) -> App:
    return new_app(content, MemoryStore(), clock)


@pytest.fixture
def clean_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """At the end: no error and no traceback was logged."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
async def telegram(app: App, tg_stub: BotApiStub, clean_logs: None) -> AsyncIterator[TgApp]:
    """The Telegram bot with its wellness scheduler, as `backcheck telegram` runs them."""
    application = build_application(app, TG_TOKEN, tg_stub.base_url, max_retries=3)
    track(application, tg_stub)
    await start(application, poll_timeout=1)
    async with running(telegram_wellness.scheduler(app, application.bot, poll=POLL)):
        yield application
    await stop(application)
    assert not tg_stub.open_queries, "every callback query must be answered"


@pytest.fixture
async def slack(app: App, slack_stub: SlackStub, clean_logs: None) -> AsyncIterator[Slack]:
    """The Slack bot (HTTP) with its wellness scheduler, as `backcheck slack` runs them."""
    settings = Settings(store="memory://", slack_bot_token=SLACK_TOKEN,
                        slack_signing_secret=SECRET, slack_api_url=slack_stub.api_url)
    bot = create(app, settings)
    runner = await start_http(bot, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    tasks = running(slack_wellness.scheduler(bot.app, bot.client, poll=POLL))
    async with aiohttp.ClientSession() as http, tasks:
        yield Slack(slack_stub, bot, url, http)
    await bot.drain()
    await runner.cleanup()


# -- helpers -----------------------------------------------------------------------------


def slack_tips(stub: SlackStub, channel: str) -> list[SlackShown]:
    return [m for m in stub.channel(channel) if html.unescape(m.body()).startswith(HEADER)]


def asks(messages: list[Any]) -> list[Any]:
    return [m for m in messages if ASK in (m.body() if isinstance(m, SlackShown) else m.text)]


def values(message: SlackShown) -> list[str]:
    return [b["value"].split("|")[-1] for b in message.buttons()]


async def slack_self_care(slack: Slack, user: str) -> SlackShown:
    """A check by clicking, in the DM, that ends at self-care; the outcome message."""
    await slack.command("", user=user, channel=dm(user))
    for _ in range(40):
        message = slack.question(user)
        if "summary" in values(message):
            return message
        pick = next((v for v in ("no", "under_1_week") if v in values(message)),
                    values(message)[0])
        await slack.click(user, pick, message=message)
    raise AssertionError("the check did not finish")


async def book_check_in(app: App, key: SessionKey) -> None:
    """A self-care check by `key`, then "Check in with me in 7 days" (through the App)."""
    replies = await app.handle(Incoming(key, "start"))
    while replies[-1].kind != "outcome":
        answer = pick(str(replies[-1].node), {})
        replies = await app.handle(Incoming(key, "answer", answer, replies[-1].token))
    booked = await app.handle(Incoming(key, "command", "followup", replies[-1].token))
    assert booked[0].text.startswith("OK – I'll check in with you here on")


def cli_env(tg_stub: BotApiStub, slack_stub: SlackStub, store: str, **extra: str
            ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "SLACK_", "TELEGRAM_"))}
    return {**env, **ENV, "BACKCHECK_ENV_FILE": os.devnull, "BACKCHECK_STORE": store,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "BACKCHECK_SECRET_KEY": SECRET_KEY,
            "TELEGRAM_API_BASE_URL": tg_stub.base_url, "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_API_URL": slack_stub.api_url, **extra}


async def backcheck(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the `backcheck` command line in a subprocess; (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


# -- backcheck tips post -----------------------------------------------------------------


async def test_tips_post_reaches_every_channel_and_group_with_the_check_button(
        tg_stub: BotApiStub, slack_stub: SlackStub, slack: Slack, telegram: TgApp,
        tmp_path: Path) -> None:
    env = cli_env(tg_stub, slack_stub, f"sqlite:///{tmp_path / 's.sqlite3'}")
    code, out, err = await backcheck(env, "tips", "post")
    assert code == 0, err
    assert "posted to 3 of 3 targets" in out
    for target in (*CHANNELS, GROUP):
        assert f"{target}  posted" in out
    assert TG_TOKEN.split(":")[1] not in out + err and SLACK_TOKEN not in out + err
    assert "Traceback" not in err

    [group_tip] = tg_stub.messages(GROUP)
    assert group_tip.text.startswith(HEADER)
    assert group_tip.buttons() == [{"text": BUTTON, "url": f"https://t.me/{BOT}?start=check"}]
    texts = []
    for channel in CHANNELS:
        [tip] = slack_tips(slack_stub, channel)
        assert [(b["action_id"], b["text"]["text"]) for b in tip.buttons()] == [
            (kit.START_ACTION, BUTTON)]
        texts.append(html.unescape(tip.body()))
    assert texts == [group_tip.text] * 2, "one tip, the same everywhere"

    # Slack: the button in the channel opens the check in the clicker's DM, privately.
    await slack.press(ALICE, slack_tips(slack_stub, CHANNELS[0])[0].buttons()[0],
                      slack_tips(slack_stub, CHANNELS[0])[0])
    assert "Question 1 of about" in slack.question(ALICE).body()
    assert slack_stub.responses[-1]["text"].startswith("I've sent you a private message")
    assert len(slack_stub.channel(CHANNELS[0])) == 1, "nothing but the tip in the channel"
    # Telegram: the URL button opens the private chat with /start check.
    person = User(tg_stub, 1201)
    await person.send("/start check")
    assert "Question 1 of about" in person.last_keyboard().text

    code, out, _ = await backcheck(env, "tips", "post")  # the rotation goes on: a new tip
    assert code == 0
    assert len(tg_stub.messages(GROUP)) == 2
    assert tg_stub.messages(GROUP)[1].text != group_tip.text


async def test_tips_post_reports_a_channel_the_bot_is_not_in(
        tg_stub: BotApiStub, slack_stub: SlackStub) -> None:
    slack_stub.errors["chat.postMessage"] = "not_in_channel"
    env = cli_env(tg_stub, slack_stub, "memory://")
    code, out, err = await backcheck(env, "tips", "post")
    assert code == 1
    assert f"slack:{CHANNELS[0]}  failed: not_in_channel" in out
    assert f"telegram:{GROUP}  posted" in out and "Traceback" not in err
    assert len(tg_stub.messages(GROUP)) == 1


@pytest.mark.parametrize(("unset", "named"), [
    (("BACKCHECK_TIPS_TARGETS",), "BACKCHECK_TIPS_TARGETS is not set"),
    (("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN"), "SLACK_BOT_TOKEN and TELEGRAM_BOT_TOKEN"),
])
async def test_tips_post_without_targets_or_tokens_names_the_variable(
        tg_stub: BotApiStub, slack_stub: SlackStub, unset: tuple[str, ...], named: str
) -> None:
    env = cli_env(tg_stub, slack_stub, "memory://")
    for name in unset:
        del env[name]
    code, _, err = await backcheck(env, "tips", "post")
    assert code == 2 and named in err and "Traceback" not in err


async def test_tips_post_skips_a_platform_without_a_token(
        tg_stub: BotApiStub, slack_stub: SlackStub) -> None:
    env = cli_env(tg_stub, slack_stub, "memory://")
    del env["TELEGRAM_BOT_TOKEN"]
    code, out, _ = await backcheck(env, "tips", "post")
    assert code == 0
    assert "posted to 2 of 3 targets" in out
    assert f"telegram:{GROUP}  skipped: TELEGRAM_BOT_TOKEN is not set" in out
    assert tg_stub.calls == []


# -- the schedule, in the running bots ---------------------------------------------------


async def test_the_schedule_fires_once_at_nine_on_monday_in_both_running_bots(
        clock: Clock, telegram: TgApp, slack: Slack, tg_stub: BotApiStub,
        slack_stub: SlackStub) -> None:
    await rounds()
    assert tg_stub.messages(GROUP) == [] and slack_stub.called("chat.postMessage") == []
    clock.advance(20)  # 09:00:10 Stockholm time
    await eventually(lambda: bool(tg_stub.messages(GROUP))
                     and all(slack_tips(slack_stub, c) for c in CHANNELS))
    clock.advance(3600)
    await rounds()
    [tip] = tg_stub.messages(GROUP)
    assert [len(slack_tips(slack_stub, c)) for c in CHANNELS] == [1, 1], "one slot, one post"
    assert html.unescape(slack_tips(slack_stub, CHANNELS[1])[0].body()) == tip.text
    assert tip.buttons()[0]["url"] == f"https://t.me/{BOT}?start=check"


async def test_two_replicas_of_each_bot_sharing_redis_post_tips_and_follow_ups_once(
        content: tuple[Flow, Locales], tg_stub: BotApiStub, slack_stub: SlackStub,
        redis_url: str, clean_logs: None) -> None:
    clocks = [Clock(BEFORE_NINE) for _ in range(4)]
    apps = [new_app(content, open_store(redis_url), c) for c in clocks]
    applications = [build_application(a, TG_TOKEN, tg_stub.base_url) for a in apps[:2]]
    settings = Settings(store=redis_url, slack_bot_token=SLACK_TOKEN,
                        slack_api_url=slack_stub.api_url)
    bots: list[SlackBot] = [create(a, settings) for a in apps[2:]]
    for application in applications:
        await start(application, poll_timeout=1)
    schedulers = [telegram_wellness.scheduler(a, t.bot, poll=POLL)
                  for a, t in zip(apps, applications, strict=False)]
    schedulers += [slack_wellness.scheduler(b.app, b.client, poll=POLL) for b in bots]
    # Two people finished a self-care check and asked for a check-in.
    for key in (SessionKey("telegram", str(tg_stub.bot_id), "3001", "3001"),
                SessionKey("slack", TEAM, "D0BOB0001", "U0BOB0001")):
        await book_check_in(apps[0], key)
    try:
        async with running(schedulers[0]), running(schedulers[1]), \
                running(schedulers[2]), running(schedulers[3]):
            await rounds()  # every replica has started, at 08:59:50
            for c in clocks:
                c.advance(20)
            await eventually(lambda: bool(tg_stub.messages(GROUP))
                             and all(slack_tips(slack_stub, c) for c in CHANNELS))
            await rounds()
            for c in clocks:
                c.advance(7 * 86400)  # the check-ins are due, and so is next Monday's tip
            await eventually(lambda: bool(asks(tg_stub.messages(3001))
                                          and asks(slack_stub.channel("D0BOB0001"))))
            await rounds(20)
    finally:
        for application in applications:
            await stop(application)
        for a in apps:
            await a.store.close()
    group = [m.text for m in tg_stub.messages(GROUP)]
    assert len(group) == 2 and group[0] != group[1], "each Monday's tip once, no repeat"
    for channel in CHANNELS:
        assert [html.unescape(m.body()) for m in slack_tips(slack_stub, channel)] == group
    assert len(asks(tg_stub.messages(3001))) == 1
    assert len(asks(slack_stub.channel("D0BOB0001"))) == 1


# -- follow-ups --------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["telegram", "slack"])
async def test_a_check_in_due_while_the_bot_was_down_is_sent_once_when_it_starts(
        platform: str, content: tuple[Flow, Locales], tg_stub: BotApiStub,
        slack_stub: SlackStub, tmp_path: Path, unused_tcp_port: int) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    store = open_sealed(url, SECRET_KEY)  # as the bot will open it
    eight_days_ago = Clock(dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    key = (SessionKey("telegram", str(tg_stub.bot_id), "3101", "3101") if platform == "telegram"
           else SessionKey("slack", TEAM, "D0CAROL01", "U0CAROL01"))
    await book_check_in(new_app(content, store, eight_days_ago), key)
    await store.close()

    def delivered() -> list[Any]:
        if platform == "telegram":
            return asks(tg_stub.messages(int(key.chat)))
        return asks(slack_stub.channel(key.chat))

    env = cli_env(tg_stub, slack_stub, url, SLACK_SIGNING_SECRET=SECRET)
    args = ["telegram"]
    if platform == "slack":
        args = ["slack", "--host", "127.0.0.1", "--port", str(unused_tcp_port)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await eventually(lambda: bool(delivered()), timeout=30)
        await asyncio.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in out.decode() + err.decode()
    [ask] = delivered()
    assert len(ask.buttons()) == 3


async def test_telegram_follow_up_is_delivered_once_and_worse_leads_back_into_the_check(
        clock: Clock, telegram: TgApp, tg_stub: BotApiStub) -> None:
    person = User(tg_stub, 1101)
    await person.send("/start")
    await answer_all(person, no_then_short)
    outcome = person.last_keyboard()
    assert "Self-care at home" in "\n".join(person.texts())
    offer = [b for b in outcome.buttons() if b["text"] == "Check in with me in 7 days"]
    assert offer and offer[0]["callback_data"].endswith("|followup")
    turn = await person.press(data="c|old.1|followup", on=outcome)  # a stale token is fine
    assert turn.sent()[0].startswith("OK – I'll check in with you here on")
    turn = await person.press("Check in with me in 7 days", on=outcome)  # booked again: once
    assert turn.toasts() == [""]
    assert turn.sent()[0].startswith("OK – I'll check in with you here on 2026-12-07")

    await rounds()
    assert asks(person.messages()) == [], "not before it is due"
    clock.advance(7 * 86400 + 1)
    await eventually(lambda: bool(asks(person.messages())))
    await rounds()
    [ask] = asks(person.messages())
    assert ask.text.endswith(ASK)
    assert [b["text"] for b in ask.buttons()] == ["Better", "About the same", "Worse"]
    assert [b["callback_data"] for b in ask.buttons()][2] == "c||checkin worse"

    turn = await person.press("Worse", on=ask)
    assert turn.toasts() == [""]
    [worse] = turn.sent()
    assert worse.startswith("I'm sorry it hasn't got better.") and "Seek help at once if:" in worse
    turn = await person.press("Take the check again")
    assert "Question 1 of about" in turn.sent()[-1]
    assert [b["text"] for b in person.last_keyboard().buttons()] == ["Yes", "No", "Not sure"]


async def test_slack_follow_up_is_delivered_once_in_the_dm_and_worse_leads_back(
        clock: Clock, slack: Slack, slack_stub: SlackStub) -> None:
    outcome = await slack_self_care(slack, ALICE)
    assert "Self-care at home" in outcome.body()
    offer = [b for b in outcome.buttons() if values_of(b) == "followup"]
    assert offer[0]["text"]["text"] == "Check in with me in 7 days"
    await slack.press(ALICE, {**offer[0], "value": "|followup"}, outcome)  # no token is fine
    await slack.click(ALICE, "followup", message=outcome)  # booked again: still one check-in
    booked = slack_stub.channel(dm(ALICE))[-1]
    assert booked.body().startswith("OK – I'll check in with you here on 2026-12-07")

    await rounds()
    assert asks(slack_stub.channel(dm(ALICE))) == []
    clock.advance(7 * 86400 + 1)
    await eventually(lambda: bool(asks(slack_stub.channel(dm(ALICE)))))
    await rounds()
    [ask] = asks(slack_stub.channel(dm(ALICE)))
    assert [b["text"]["text"] for b in ask.buttons()] == ["Better", "About the same", "Worse"]

    await slack.click(ALICE, "checkin worse", message=ask)
    worse = slack_stub.channel(dm(ALICE))[-1]
    assert "Seek help at once if:" in worse.body()
    assert [b["text"]["text"] for b in worse.buttons()] == ["Take the check again"]
    await slack.click(ALICE, "start", message=worse)
    assert "Question 1 of about" in slack.question(ALICE).body()
    for channel in {m.channel for m in slack_stub.shown} - {dm(ALICE)}:
        assert slack_stub.channel(channel) == slack_tips(slack_stub, channel), (
            "nothing but the week's tip outside the DM")


def values_of(button: dict[str, Any]) -> str:
    return str(button["value"]).split("|")[-1]


async def test_forget_cancels_a_follow_up_on_both_platforms(
        clock: Clock, telegram: TgApp, slack: Slack, tg_stub: BotApiStub,
        slack_stub: SlackStub) -> None:
    person = User(tg_stub, 1102)
    await person.send("/start")
    await answer_all(person, no_then_short)
    await person.press("Check in with me in 7 days")
    await person.send("/forget")
    outcome = await slack_self_care(slack, ALICE)
    await slack.click(ALICE, "followup", message=outcome)
    await slack.command("forget", channel=dm(ALICE))
    assert "deleted everything" in slack_stub.channel(dm(ALICE))[-1].body()

    clock.advance(8 * 86400)
    await rounds(20)
    assert asks(person.messages()) == []
    assert asks(slack_stub.channel(dm(ALICE))) == []


# -- totals ------------------------------------------------------------------------------


async def seed_totals(app: App) -> None:
    """Six self-care results and two appointments this week."""
    for level, n in (("self_care", 6), ("appointment", 2)):
        for _ in range(n):
            await stats.record_completion(app.store, level, app.clock())


async def test_telegram_stats_for_a_lead_hides_small_counts_and_refuses_others(
        app: App, telegram: TgApp, tg_stub: BotApiStub) -> None:
    await seed_totals(app)
    turn = await User(tg_stub, LEAD_TG).send("/stats")
    [text] = turn.sent()
    assert text.startswith("📊 Completed back checks – anonymous totals per week")
    assert "2026-W49  ████████████████████ 6" in text
    assert "Appointment within 1–2 weeks\n  2026-W49  ▏ <5" in text
    assert "All levels: 2026-W49: hidden" in text and ": 8" not in text  # 8 - 6 = 2
    assert (await User(tg_stub, 1103).send("/stats")).sent() == [
        "Sorry, the totals are only for this workplace's wellness leads."]
    lead_in_group = User(tg_stub, LEAD_TG, chat={"id": GROUP, "title": "Office",
                                                 "type": "supergroup"})
    turn = await lead_in_group.send(f"/stats@{BOT}")
    assert turn.sent() == [app.text("en", "shared.redirect")], "never totals in a group"


async def test_slack_stats_for_a_lead_are_ephemeral_and_others_are_refused(
        app: App, slack: Slack, slack_stub: SlackStub) -> None:
    await seed_totals(app)
    await slack.command("stats", user=LEAD_SLACK)
    [shown] = slack_stub.responses
    assert shown["response_type"] == "ephemeral"
    text = html.unescape(shown["text"])
    assert text.startswith("📊 Completed back checks")
    assert "▏ <5" in html.unescape(str(shown["blocks"]))
    await slack.command("stats", user=ALICE)
    assert slack_stub.responses[1]["response_type"] == "ephemeral"
    assert slack_stub.responses[1]["text"] == (
        "Sorry, the totals are only for this workplace's wellness leads.")
    await slack.command("statistik", user=LEAD_SLACK)  # the Swedish word works too
    assert slack_stub.responses[2]["response_type"] == "ephemeral"
    assert slack_stub.responses[2]["text"] == shown["text"]
    assert slack_stub.called("chat.postMessage") == [], "nothing in any channel"
    assert slack_stub.called("conversations.open") == []


async def test_backcheck_stats_prints_the_totals_from_the_store(
        content: tuple[Flow, Locales], tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    store = open_store(url)
    await seed_totals(new_app(content, store, clock))
    await store.close()
    env = {**os.environ, "BACKCHECK_STORE": url}
    code, out, err = await backcheck(env, "stats")
    assert code == 0, err
    assert "🏠 Self-care\n  2026-W49  ████████████████████ 6" in out
    assert "▏ <5" in out and "U0" not in out
    code, out, _ = await backcheck(env, "stats", "--lang", "sv")
    assert out.startswith("📊 Genomförda ryggkollar")


# -- whoami: the ids operators need, from the bot itself -----------------------------------

TG_BOT_ID = TG_TOKEN.partition(":")[0]


async def test_telegram_whoami_gives_a_person_their_ids_and_an_admin_the_groups(
        app: App, telegram: TgApp, tg_stub: BotApiStub) -> None:
    [mine] = (await User(tg_stub, 1103).send("/whoami")).sent()
    assert "You, for BACKCHECK_ADMINS: telegram:1103" in mine
    assert f"for backcheck forget --user: telegram:{TG_BOT_ID}:1103" in mine
    assert "You are not an admin" in mine and "This chat" not in mine
    # In a group only an admin is answered there (everyone sees it); the rest are not.
    someone = User(tg_stub, 1103, chat={"id": GROUP, "title": "Office", "type": "supergroup"})
    assert (await someone.send(f"/whoami@{BOT}")).sent() == [app.text("en", "shared.redirect")]
    lead = User(tg_stub, LEAD_TG, chat={"id": GROUP, "title": "Office", "type": "supergroup"})
    [theirs] = (await lead.send(f"/whoami@{BOT}")).sent()
    assert f"This chat, for BACKCHECK_TIPS_TARGETS: telegram:{GROUP}" in theirs
    assert f"You, for BACKCHECK_ADMINS: telegram:{LEAD_TG}" in theirs
    assert "You are an admin" in theirs


async def test_slack_whoami_is_ephemeral_with_the_team_id_and_for_an_admin_the_channel(
        app: App, slack: Slack, slack_stub: SlackStub) -> None:
    await slack.command("whoami", user=ALICE)
    [mine] = slack_stub.responses
    assert mine["response_type"] == "ephemeral"
    text = html.unescape(mine["text"])
    assert f"You, for BACKCHECK_ADMINS: slack:{ALICE}" in text
    assert f"for backcheck forget --user: slack:{TEAM}:{ALICE}" in text
    assert "This chat" not in text
    await slack.command("vem är jag", user=LEAD_SLACK)  # Swedish words work too
    theirs = slack_stub.responses[1]
    assert theirs["response_type"] == "ephemeral"
    assert "This chat, for BACKCHECK_TIPS_TARGETS: slack:C" in html.unescape(theirs["text"])
    assert slack_stub.called("chat.postMessage") == [], "nothing in any channel"
    assert slack_stub.called("conversations.open") == []


def test_the_forget_form_whoami_shows_names_that_very_person() -> None:
    from bot import dsr

    settings = Settings.from_env({"BACKCHECK_STORE": "memory://"})
    for key in (SessionKey("telegram", TG_BOT_ID, "-100", "1103"),
                SessionKey("slack", TEAM, "C0", ALICE),
                SessionKey("console", "local", "terminal", "user-ada")):
        assert dsr.person_of(dsr.user_spec(key), settings) == key.person()
