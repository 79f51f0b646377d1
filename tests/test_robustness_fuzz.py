"""Fuzzing the adapters' inputs (hypothesis) through the real libraries and stand-ins.

Telegram: random people in private chats, groups and channels send random text (any
unicode, 5,000+ characters, commands in both languages), press real, stale, forged and
garbled buttons, send stickers and edits, forget themselves, and Telegram sends update
types we never asked for. Slack: random slash commands, clicks with random action ids
and values, typed DM messages and events, signed as Slack signs them.

What must hold for every example: nothing raises to the top (no error or traceback is
logged, no apology for an internal error is sent), every person who wrote in a private
chat gets a reply, every button press is answered, every message fits the platform's
limits, and the stored check is always one the flow can reach, with the outcome shown
matching `triage.level_of` of the stored answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_stub import TOKEN as SLACK_TOKEN
from slack_stub import Signer, SlackStub, command_form, fixture, interaction_form
from telegram_stub import BotApiStub, Turn, User, track
from telegram_stub import fixture as tg_fixture

from bot.adapters.slack.serve import create, start_http
from bot.adapters.telegram.serve import build_application, start, stop
from bot.app import App
from bot.config import Settings
from bot.engine import triage
from bot.engine.flow import Flow
from bot.stores.base import PREFS, SESSION
from bot.types import SessionKey
from tests.support import make_app

TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- what people type ----------------------------------------------------------------------

WORDS = ["yes", "no", "not sure", "ja", "nej", "vet inte", "1", "2", "3", "4", "Yes!", " NO ",
         "back", "tillbaka", "restart", "börja om", "help", "hjälp", "faq", "privacy",
         "summary", "svenska", "english", "language", "stop", "avbryt", "forget", "glöm mig",
         "?", "", "   ", "/start", "/check", "/back", "/restart", "/stop", "/cancel", "/help",
         "/faq", "/privacy", "/forget", "/summary", "/language", "/language sv",
         "/language xx", "/start check", "/start@backcheck_test_bot", "/start@other_bot",
         "/nosuchcommand", "/", "followup", "stats"]
TEXT = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=50),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "🦶", "ö", "\u202e", "\n", " "]),
              st.integers(4000, 6000)),
)
DATA = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.builds(lambda k, t, v: f"{k}|{t}|{v}", st.sampled_from(["a", "c", "x", ""]),
              st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", max_size=40),
              st.sampled_from(["yes", "no", "unsure", "restart", "summary", "faq", "back",
                               "language sv", "forget", "followup", "x" * 48, "rm -rf /"])),
)
ACTION = st.one_of(
    st.tuples(st.just("type"), TEXT),
    st.tuples(st.just("press"), st.integers(0, 5)),  # a button on the newest keyboard
    st.tuples(st.just("stale"), st.integers(0, 50)),  # a button on an older message
    st.tuples(st.just("forged"), DATA),
    st.tuples(st.just("media"), st.sampled_from(["sticker", "photo", "voice",
                                                 "edited_message"])),
)
LANG = st.sampled_from([None, "en", "sv", "sv-SE", "en-GB", "", "zz", "de-CH-1996"])


# -- Telegram --------------------------------------------------------------------------------


class Errors(logging.Handler):
    """Every error (or traceback) any logger records."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        out = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return out


@dataclass
class Telegram:
    runner: asyncio.Runner
    stub: BotApiStub
    app: App
    errors: Errors
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(300_000))


@pytest.fixture(scope="module")
def telegram() -> Iterator[Telegram]:
    """One bot for the whole module (starting one per example would dominate the time);
    every example is a new person, so examples do not see each other's chats."""
    runner = asyncio.Runner()
    stub = BotApiStub(TG_TOKEN, username="backcheck_test_bot")
    app = make_app()
    errors = Errors()
    logging.getLogger().addHandler(errors)

    async def up() -> Any:
        await stub.start()
        application = build_application(app, TG_TOKEN, stub.base_url, max_retries=2)
        track(application, stub)
        await start(application, poll_timeout=1)
        return application

    application = runner.run(up())
    errors.take()
    yield Telegram(runner, stub, app, errors)
    runner.run(stop(application))
    runner.run(stub.close())
    runner.close()
    logging.getLogger().removeHandler(errors)


def replay(flow: Flow, answers: list[tuple[str, str]]) -> str:
    """Where these answers lead from the start; each must answer the question asked."""
    node = flow.start
    for i, (qid, option) in enumerate(answers):
        assert qid == node, f"answer {i} is for {qid}, but the flow asks {node}"
        node = triage.next_node(flow, flow.nodes[qid], option,
                                triage.facts(flow, answers[: i + 1]))
    return node


async def check_stored(tg: Telegram, key: SessionKey, turn: Turn) -> None:
    """The stored check is reachable, and an outcome shown matches its answers."""
    record = await tg.app.store.get(SESSION, key.id())
    if record is None:
        return
    answers = [(q, a) for q, a in record.data["answers"]]
    node = replay(tg.app.flow, answers)
    assert node == record.data["node"]
    assert record.data["done"] == (tg.app.flow.nodes[node].kind == "outcome")
    shown = " ".join(turn.sent())
    for level in tg.app.flow.levels:
        if tg.app.text("en", f"level.{level}.headline") in shown.split("\n\n")[0]:
            assert level == triage.level_of(tg.app.flow, answers)


async def act(tg: Telegram, user: User, action: tuple[str, Any]) -> tuple[Turn, bool]:
    """Do one thing; the bot's calls, and whether it was a button press."""
    kind, value = action
    if kind == "type":
        return await user.send(value), False
    if kind == "media":
        return await user.send_fixture(value), False
    keyboards = [m for m in user.messages() if m.buttons()]
    if kind == "press" and keyboards:
        buttons = keyboards[-1].buttons()
        return await user.press(data=buttons[value % len(buttons)]["callback_data"],
                                on=keyboards[-1]), True
    if kind == "stale" and keyboards:
        old = keyboards[value % len(keyboards)]
        return await user.press(data=old.buttons()[0]["callback_data"], on=old), True
    if kind in ("press", "stale"):
        return await user.send("/start"), False  # nothing to press yet
    return await press_raw(user, value), True


async def press_raw(user: User, data: str | None) -> Turn:
    """A callback query with any data at all, or none (as a game button sends)."""
    update = tg_fixture("callback_query")
    query = update["callback_query"]
    query["id"] = f"q{user.id}-raw{time.monotonic_ns()}"
    query["from"] = user.sender
    query["message"]["chat"] = user.chat
    if data is None:
        del query["data"]
        query["game_short_name"] = "backcheck"
    else:
        query["data"] = data
    return await user.push(update)


def assert_replied(tg: Telegram, turn: Turn, pressed: bool, action: tuple[str, Any]) -> None:
    assert turn.calls, f"no reply at all to {action!r}"
    if pressed:
        assert [c for c in turn.calls if c.method == "answerCallbackQuery"], action
    else:
        assert turn.sent(), f"no message in reply to {action!r}"
    resync = tg.app.text("en", "errors.resync")
    assert not any(m.startswith(resync) for m in turn.sent()), action
    assert all(c.status == 200 for c in turn.calls), [(c.method, c.status) for c in turn.calls]


@FUZZ
@given(actions=st.lists(ACTION, min_size=1, max_size=20), lang=LANG)
def test_telegram_private_chat_survives_anything_a_person_does(
        telegram: Telegram, actions: list[tuple[str, Any]], lang: str | None) -> None:
    tg = telegram
    user = User(tg.stub, next(tg.ids), lang=lang)  # type: ignore[arg-type]  # None: no code

    async def play() -> None:
        for action in actions:
            turn, pressed = await act(tg, user, action)
            assert_replied(tg, turn, pressed, action)
            key = SessionKey("telegram", str(tg.stub.bot_id), str(user.id), str(user.id))
            await check_stored(tg, key, turn)
            if action[0] == "type" and action[1] in ("/forget", "forget", "glöm mig"):
                assert await tg.app.store.get(SESSION, key.id()) is None
                assert await tg.app.store.get(PREFS, key.person()) is None

    tg.runner.run(play())
    assert not any(q.startswith(f"q{user.id}-") for q in tg.stub.open_queries)
    assert tg.errors.take() == []


GROUPS = st.sampled_from([("supergroup", -1001234500000), ("group", -4000000)])


@FUZZ
@given(group=GROUPS, texts=st.lists(TEXT, min_size=1, max_size=6), lang=LANG)
def test_telegram_groups_never_get_a_health_question(
        telegram: Telegram, group: tuple[str, int], texts: list[str], lang: str | None) -> None:
    tg = telegram
    n = next(tg.ids)  # a group of its own: Telegram allows a bot 20 messages/min per group
    chat = {"id": group[1] - n, "title": "Office", "type": group[0]}
    user = User(tg.stub, n, lang=lang or "en", chat=chat)
    questions = [tg.app.text(lg, "q.cold_pale_foot.text") for lg in ("en", "sv")]

    async def play() -> None:
        for text in texts:
            turn = await user.send(text)
            assert not any(q in s for s in turn.sent() for q in questions)
            assert all(c.status == 200 for c in turn.calls)
        keyboard = [m for m in user.messages() if m.buttons()]
        if keyboard:
            turn = await user.press(data="a|tok|yes", on=keyboard[-1])
            assert turn.toasts() == [""]

    tg.runner.run(play())
    assert tg.errors.take() == []


ODD_UPDATES = [
    {"my_chat_member": {"chat": {"id": 5, "type": "private"}, "from": {
        "id": 5, "is_bot": False, "first_name": "A"}, "date": 0,
        "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True,
                                                          "first_name": "B"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 1, "is_bot": True, "first_name": "B"}}}},
    {"some_future_update_type": {"anything": [1, 2, 3]}},
    {},
    {"message": {"message_id": 1, "date": 0, "text": "no chat at all"}},
    {"callback_query": {"id": "odd-1", "chat_instance": "1", "data": "a|t|yes",
                        "from": {"id": 6, "is_bot": False, "first_name": "C"}}},
    {"channel_post": {"message_id": 2, "date": 0, "text": "/start", "chat": {
        "id": -100777, "type": "channel", "title": "News"},
        "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]}},
    {"message": {"message_id": 3, "date": 0, "text": "/start", "chat": {
        "id": 8, "type": "private"}, "entities": [{"offset": 40, "length": 9,
                                                   "type": "bot_command"}]}},
]
SECRET_TEXT = "my SECRET symptom"
# Shapes python-telegram-bot cannot read. The first is real version skew: a poll as an
# older Bot API sent it, without a field the installed PTB requires.
UNREADABLE = [
    {"poll": {"id": "1", "question": SECRET_TEXT, "options": [], "total_voter_count": 0,
              "is_closed": False, "is_anonymous": True, "type": "regular",
              "allows_multiple_answers": False}},
    {"message": {"date": 0, "chat": {"id": 5, "type": "private"}, "text": SECRET_TEXT}},
    {"message": {"message_id": 1, "date": 0, "chat": 5, "text": SECRET_TEXT}},
    {"message": {"message_id": 1, "date": "yesterday", "text": SECRET_TEXT,
                 "chat": {"id": 5, "type": "private"}}},
    {"message": SECRET_TEXT},
    {"callback_query": {"id": "1", "chat_instance": "x", "message": SECRET_TEXT,
                        "from": {"id": 5, "is_bot": False, "first_name": "A"}}},
]


@pytest.mark.parametrize("update", ODD_UPDATES, ids=range(len(ODD_UPDATES)))
def test_telegram_odd_updates_are_handled_quietly(telegram: Telegram, update: dict[str, Any]
                                                  ) -> None:
    """Update types we did not ask for, and shapes PTB reads but that lack a chat or a
    sender: no crash; a button press without a message is still answered."""
    tg = telegram

    async def play() -> None:
        update_id = tg.stub.push(update)
        await tg.stub.wait_processed(update_id)
        user = User(tg.stub, next(tg.ids))
        turn = await user.send("/start")  # the bot carries on
        assert "Question 1 of about" in turn.sent()[-1]

    tg.runner.run(play())
    assert "odd-1" not in tg.stub.open_queries
    assert tg.errors.take() == []


def test_telegram_an_unreadable_update_does_not_stop_the_ones_behind_it(
        telegram: Telegram) -> None:
    """Before the fix, polling asked for the same batch again and again, forever: nobody
    got another reply, and PTB logged the raw update, message text included."""
    tg = telegram
    logged: list[str] = []
    everything = logging.Handler(logging.DEBUG)
    everything.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger().addHandler(everything)
    people = [User(tg.stub, next(tg.ids)) for _ in UNREADABLE]

    async def play() -> None:
        polls = len(tg.stub.calls_of("getUpdates"))
        for update in UNREADABLE:  # straight into the queue: the stub would read it
            tg.stub._updates.append({**update, "update_id": next(tg.stub._ids)})
        turns = await asyncio.wait_for(
            asyncio.gather(*(p.send("/start") for p in people)), 20)
        assert all("Question 1 of about" in t.sent()[-1] for t in turns)
        assert len(tg.stub.calls_of("getUpdates")) - polls < 20, "no tight retry loop"

    try:
        tg.runner.run(play())
    finally:
        logging.getLogger().removeHandler(everything)
    assert not any(SECRET_TEXT in line for line in logged)
    assert sum("skipped: unreadable" in line for line in logged) == len(UNREADABLE)
    assert tg.errors.take() == []


ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                     st.integers(), max_size=2))
PERSON = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(1, 10**10), ANY), "is_bot": ANY,
    "first_name": st.one_of(st.text(max_size=10), ANY), "language_code": ANY})
CHAT = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(-10**13, 10**10), ANY),
    "type": st.one_of(st.sampled_from(["private", "group", "supergroup", "channel"]), ANY)})
BODY = st.fixed_dictionaries({}, optional={
    "message_id": st.one_of(st.integers(1, 10**6), ANY), "date": st.one_of(st.integers(), ANY),
    "chat": st.one_of(CHAT, ANY), "from": st.one_of(PERSON, ANY), "text": st.one_of(TEXT, ANY),
    "entities": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
        "offset": st.integers(-5, 50), "length": st.integers(-5, 50),
        "type": st.sampled_from(["bot_command", "bold", "nonsense"])}), max_size=3), ANY),
    "data": st.one_of(DATA, ANY), "id": ANY, "chat_instance": ANY, "message": ANY,
})
RANDOM_UPDATE = st.dictionaries(
    st.sampled_from(["message", "edited_message", "callback_query", "channel_post",
                     "my_chat_member", "inline_query", "something_new"]),
    st.one_of(BODY, ANY), max_size=2)


@FUZZ
@given(updates=st.lists(RANDOM_UPDATE, min_size=1, max_size=4))
def test_telegram_random_update_shapes_never_stop_the_bot(
        telegram: Telegram, updates: list[dict[str, Any]]) -> None:
    """Any JSON at all in an update, readable by PTB or not: the next person is answered."""
    tg = telegram

    async def play() -> None:
        for update in updates:  # straight into the queue: the stub itself would read them
            tg.stub._updates.append({**update, "update_id": next(tg.stub._ids)})
        tg.stub._wake.set()
        turn = await asyncio.wait_for(User(tg.stub, next(tg.ids)).send("/start"), 20)
        assert "Question 1 of about" in turn.sent()[-1]

    tg.runner.run(play())
    assert tg.errors.take() == []


# -- Slack -----------------------------------------------------------------------------------

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Slack:
    runner: asyncio.Runner
    stub: SlackStub
    bot: Any
    app: App
    url: str
    http: aiohttp.ClientSession
    errors: Errors
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def post(self, body: str, content_type: str = FORM) -> int:
        headers = Signer(SLACK_SECRET).headers(body, content_type=content_type)
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(), headers=headers) as resp:
            await resp.read()
        assert time.perf_counter() - started < 3.0, "Slack's 3-second limit"
        await self.bot.drain()
        return resp.status


@pytest.fixture(scope="module")
def slack() -> Iterator[Slack]:
    runner = asyncio.Runner()
    stub = SlackStub(locales={"U0SVEN001": "sv-SE"})
    app = make_app()
    errors = Errors()
    logging.getLogger().addHandler(errors)

    async def up() -> tuple[Any, Any, str, aiohttp.ClientSession]:
        await stub.start()
        settings_ = Settings(store="memory://", slack_bot_token=SLACK_TOKEN,
                             slack_signing_secret=SLACK_SECRET, slack_api_url=stub.api_url)
        bot = create(app, settings_)
        web = await start_http(bot, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{web.addresses[0][1]}/slack/events"
        return bot, web, url, aiohttp.ClientSession()

    bot, web, url, http = runner.run(up())
    yield Slack(runner, stub, bot, app, url, http, errors)

    async def down() -> None:
        await http.close()
        await bot.drain()
        await web.cleanup()
        await stub.stop()

    runner.run(down())
    runner.close()
    logging.getLogger().removeHandler(errors)


def dm(user: str) -> str:
    return "D" + user[1:]


def question(stub: SlackStub, user: str) -> Any:
    shown = [m for m in stub.channel(dm(user), user) if m.buttons()]
    return shown[-1] if shown else None


def click_body(stub: SlackStub, user: str, action_id: str, value: Any,
               message: Any = None, container: str = "message") -> str:
    payload = fixture("block_actions")
    payload["user"].update(id=user)
    payload["response_url"] = stub.response_url(user)
    payload["container"]["type"] = container
    if message is not None:
        payload["channel"]["id"] = payload["container"]["channel_id"] = message.channel
        payload["container"]["message_ts"] = payload["message"]["ts"] = message.ts
    payload["actions"][0].update(action_id=action_id, value=value)
    return interaction_form(payload)


SLACK_ACTION = st.one_of(
    st.tuples(st.just("command"), TEXT, st.booleans()),  # text, from the DM or a channel
    st.tuples(st.just("click"), st.integers(0, 5)),  # a button of the newest question
    st.tuples(st.just("stale"), st.integers(0, 50)),
    st.tuples(st.just("forged"), st.sampled_from(
        ["bc_answer_0", "bc_answer_99", "bc_cmd_1", "bc_lang_sv", "bc_lang_xx", "bc_start",
         "not_ours", "bc_answer_x", ""]), st.one_of(DATA, st.integers(), st.text())),
    st.tuples(st.just("type"), TEXT),
)


async def slack_act(sl: Slack, user: str, event: Iterator[int], action: tuple[Any, ...]
                    ) -> tuple[int, bool]:
    """Do one thing; return the HTTP status and whether a reply must follow."""
    kind = action[0]
    if kind == "command":
        channel = dm(user) if action[2] else "C0GENERAL1"
        body = command_form(text=action[1], user_id=user, channel_id=channel,
                            response_url=sl.stub.response_url(user))
        return await sl.post(body), True
    current = question(sl.stub, user)
    if kind == "click" and current is not None:
        button = current.buttons()[action[1] % len(current.buttons())]
        return await sl.post(click_body(sl.stub, user, button["action_id"], button["value"],
                                        current)), True
    if kind == "stale":
        old = [m for m in sl.stub.channel(dm(user), user) if m.blocks]
        if old:
            message = old[action[1] % len(old)]
            value = next((e["value"] for b in message.blocks if b["type"] == "actions"
                          for e in b["elements"]), "tok|yes")
            return await sl.post(click_body(sl.stub, user, "bc_answer_0", value, message)), False
    if kind == "forged":
        return await sl.post(click_body(sl.stub, user, action[1], action[2], current)), False
    if kind == "type":
        payload = fixture("event_message_im")
        payload["event_id"] = f"Ev{next(event)}"
        payload["event"].update(user=user, text=action[1], channel=dm(user))
        return await sl.post(json.dumps(payload), "application/json"), True
    return await sl.post(command_form(text="", user_id=user, channel_id=dm(user))), True


@FUZZ
@given(actions=st.lists(SLACK_ACTION, min_size=1, max_size=15),
       swedish=st.booleans())
def test_slack_survives_anything_a_person_sends(slack: Slack, actions: list[tuple[Any, ...]],
                                                swedish: bool) -> None:
    sl = slack
    n = next(sl.ids)
    user = "U0SVEN001" if swedish and n == 1 else f"U0FZ{n:05d}"
    events = itertools.count(n * 1000)

    async def play() -> None:
        for action in actions:
            before = len(sl.stub.calls)
            status, must_reply = await slack_act(sl, user, events, action)
            assert status == 200, (action, status)
            calls = sl.stub.calls[before:]
            if must_reply:
                posted = [c for c in calls if c.method in ("chat.postMessage",
                                                           "chat.postEphemeral")
                          and c.args.get("channel") == dm(user)]
                assert posted, f"no reply to {action!r}"
            for c in calls:
                for block in c.args.get("blocks") or []:
                    text = block.get("text", {}).get("text", "")
                    assert len(text) <= 3000
                assert c.args.get("channel") in (None, dm(user)), "only ever the person's DM"
            assert sl.app.text("en", "errors.unavailable") not in str(calls)

    sl.runner.run(play())
    assert sl.errors.take() == []


# Shapes Slack never sends (requests are signed, so only Slack can send them). Bolt
# itself cannot read the first two and answers 500; the rest reach backcheck.
BOLT_CANNOT_READ = [{"actions": []}, {"actions": [{}]}]
MALFORMED_CLICKS = [
    {"actions": [{"action_id": "bc_answer_0"}]},
    {"actions": [{"action_id": "bc_answer_0", "value": None}]},
    {"actions": [{"action_id": "bc_answer_0", "value": {"a": 1}}]},
    {"container": None},
    {"channel": None},
]


@pytest.mark.parametrize("change", BOLT_CANNOT_READ + MALFORMED_CLICKS,
                         ids=range(len(BOLT_CANNOT_READ + MALFORMED_CLICKS)))
def test_slack_malformed_clicks_are_acknowledged_and_change_nothing(
        slack: Slack, change: dict[str, Any]) -> None:
    sl = slack
    user = f"U0MF{next(sl.ids):05d}"

    async def play() -> None:
        payload = fixture("block_actions")
        payload["user"]["id"] = user
        payload["response_url"] = sl.stub.response_url(user)
        payload.update(change)
        before = len(sl.stub.calls)
        status = await sl.post(interaction_form(payload))
        assert status == (500 if change in BOLT_CANNOT_READ else 200)
        posted = [c for c in sl.stub.calls[before:] if c.method.startswith("chat.")]
        # at most a private "already answered" notice: no question, no update, no channel post
        assert all(c.method == "chat.postEphemeral" and c.args["channel"] == dm(user)
                   and c.args["text"] == "That question has already been answered."
                   for c in posted), posted
        assert await sl.post(command_form(text="", user_id=user, channel_id=dm(user))) == 200
        assert "Question 1 of about" in str(question(sl.stub, user).blocks)

    sl.runner.run(play())
    errors = sl.errors.take()
    if change in BOLT_CANNOT_READ:  # Bolt's own error log, before any listener runs
        errors = [e for e in errors if not e.startswith("backcheck.slack.bolt: Failed to run")]
    assert errors == []
