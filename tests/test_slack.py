"""The Slack adapter through the real slack-bolt, over HTTP, against a stand-in Web API.

The adapter's own aiohttp server runs on 127.0.0.1; requests are signed exactly as
Slack signs them; the bot's Web API calls land in `SlackStub`, which shows each
channel as a person would see it. No test reaches the network.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from slack_sdk.models.blocks import Block
from slack_stub import (
    APP_TOKEN,
    TOKEN,
    Shown,
    Signer,
    SlackStub,
    assert_valid_blocks,
    command_form,
    fixture,
    interaction_form,
)

from bot import cli
from bot.adapters.slack import render as kit
from bot.adapters.slack.bot import COMMAND, SlackBot
from bot.adapters.slack.inbound import subcommand as parse_subcommand
from bot.adapters.slack.serve import EVENTS_PATH, create, start_http, start_socket_mode
from bot.compose import build_app
from bot.config import Settings
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import load_locales
from bot.ops import metrics_of
from bot.stores import MemoryStore
from bot.types import Button, Reply

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALICE, SVEN = "U0ALICE01", "U0SVEN001"
CHANNEL = "C0GENERAL1"
FORM = "application/x-www-form-urlencoded"
SUMMARY_TITLE = "Summary for my doctor – back pain with tingling toes"


def dm(user: str) -> str:
    """The DM channel the stub opens for a user."""
    return "D" + user[1:]


@dataclass
class Result:
    status: int
    body: str
    seconds: float


class Slack:
    """A workspace: people send commands, clicks and messages; the stub shows the rest."""

    def __init__(self, stub: SlackStub, bot: SlackBot, url: str, http: aiohttp.ClientSession):
        self.stub, self.bot, self.url, self.http = stub, bot, url, http
        self.signer = Signer(SECRET)

    async def post(self, body: str, content_type: str, *, age: float = 0,
                   headers: dict[str, str] | None = None, drain: bool = True) -> Result:
        """Send a signed request (headers override the signed ones) and wait for the work."""
        all_headers = {**self.signer.headers(body, age=age, content_type=content_type),
                       **(headers or {})}
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
        result = Result(resp.status, text, time.perf_counter() - started)
        if drain:
            await self.bot.drain()
        return result

    async def command(self, text: str = "", *, user: str = ALICE, channel: str = CHANNEL,
                      drain: bool = True) -> Result:
        body = command_form(text=text, user_id=user, channel_id=channel,
                            response_url=self.stub.response_url(user))
        return await self.post(body, FORM, drain=drain)

    def question(self, user: str) -> Shown:
        """The latest message in the person's DM that has buttons."""
        return [m for m in self.stub.channel(dm(user), user) if m.buttons()][-1]

    async def click(self, user: str, value: str, *, message: Shown | None = None) -> Result:
        """Press the button whose option id / command is `value` on `message` (default:
        the latest message with buttons)."""
        message = message or self.question(user)
        pressed = next(b for b in message.buttons() if b["value"].split("|")[-1] == value)
        return await self.press(user, pressed, message)

    async def press(self, user: str, button: dict[str, Any], message: Shown | None) -> Result:
        payload = fixture("block_actions")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["response_url"] = self.stub.response_url(user)
        if message is not None:
            payload["channel"]["id"] = payload["container"]["channel_id"] = message.channel
            payload["container"]["message_ts"] = payload["message"]["ts"] = message.ts
            payload["message"]["blocks"] = message.blocks
        payload["actions"][0].update(action_id=button["action_id"], value=button["value"],
                                     text=button["text"])
        return await self.post(interaction_form(payload), FORM)

    async def event(self, payload: dict[str, Any], headers: dict[str, str] | None = None
                    ) -> Result:
        return await self.post(json.dumps(payload), "application/json", headers=headers)

    async def type(self, user: str, text: str, event_id: str) -> Result:
        payload = fixture("event_message_im")
        payload["event_id"] = event_id
        payload["event"].update(user=user, text=text, channel=dm(user))
        return await self.event(payload)

    def api(self, method: str, channel: str | None = None) -> list[dict[str, Any]]:
        calls = self.stub.called(method)
        return [c for c in calls if channel is None or c.get("channel") == channel]


@pytest.fixture(scope="module")
def content() -> tuple[Any, Any]:
    """The shipped flow and locales, loaded once for this module."""
    locales = load_locales(LOCALES_DIR)
    return load_flow(DEFAULT_FLOW, locales), locales


@pytest.fixture
async def slack(content: tuple[Any, Any]) -> AsyncIterator[Slack]:
    stub = SlackStub(locales={SVEN: "sv-SE"})
    await stub.start()
    settings = Settings(store="memory://", slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                        slack_api_url=stub.api_url)
    bot = create(build_app(settings, MemoryStore(), content=content), settings)
    runner = await start_http(bot, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield Slack(stub, bot, f"http://127.0.0.1:{port}/slack/events", http)
    await bot.drain()
    await runner.cleanup()
    await stub.stop()
    assert_valid_blocks(stub)


# -- signatures --------------------------------------------------------------------------


async def test_bad_old_and_missing_signatures_are_refused(slack: Slack) -> None:
    body = command_form(text="", user_id=ALICE)
    signed = slack.signer.headers(body, content_type=FORM)
    bad = await slack.post(body, FORM, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    old = await slack.post(body, FORM, age=6 * 60)
    async with slack.http.post(slack.url, data=body,
                               headers={"Content-Type": FORM}) as resp:
        missing = resp.status
    other_body = await slack.post(body + "&x=1", FORM, headers=signed)
    assert [bad.status, old.status, missing, other_body.status] == [401, 401, 401, 401]
    assert slack.stub.calls == [] and slack.stub.responses == []


async def test_a_signed_request_within_five_minutes_is_accepted(slack: Slack) -> None:
    result = await slack.post(json.dumps(fixture("url_verification")), "application/json",
                              age=4 * 60)
    assert result.status == 200
    assert json.loads(result.body)["challenge"] == fixture("url_verification")["challenge"]


# -- the slash command ---------------------------------------------------------------------


async def test_command_in_a_channel_answers_privately_and_continues_in_the_dm(
    slack: Slack,
) -> None:
    result = await slack.command("")
    assert result.status == 200 and result.body == ""
    notices = slack.stub.responses
    assert len(notices) == 1
    assert notices[0]["response_type"] == "ephemeral"
    assert notices[0]["text"].startswith("I've sent you a private message")
    assert slack.api("conversations.open")[0]["users"] == ALICE
    first = slack.question(ALICE)
    assert first.channel == dm(ALICE)
    assert "Question 1 of about" in first.body()
    assert [b["text"]["text"] for b in first.buttons()] == ["Yes", "No", "Not sure"]
    # Nothing at all, let alone anything health-related, is posted to the channel.
    for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
        assert slack.api(method, CHANNEL) == []


async def test_command_in_the_dm_starts_there_without_a_notice(slack: Slack) -> None:
    await slack.command("", channel=dm(ALICE))
    assert slack.stub.responses == []
    assert "Question 1 of about" in slack.question(ALICE).body()


async def test_help_subcommand_sends_help_to_the_dm(slack: Slack) -> None:
    await slack.command("help")
    messages = slack.stub.channel(dm(ALICE), ALICE)
    assert "How this works" in messages[-1].body()
    assert slack.api("chat.postMessage", CHANNEL) == []


async def test_an_in_place_command_such_as_stats_is_answered_privately_where_asked(
        slack: Slack) -> None:
    await slack.command("stats")
    refused = slack.bot.app.text("en", "stats.refused")
    assert slack.stub.responses[0]["text"] == refused
    assert slack.stub.responses[0]["response_type"] == "ephemeral"
    assert slack.api("conversations.open") == [] and slack.api("chat.postMessage") == []


def test_the_manifest_matches_the_adapter() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["usage_hint"]
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im"}
    for url in (command["url"], settings["event_subscriptions"]["request_url"],
                settings["interactivity"]["request_url"]):
        assert url == f"https://YOUR-HOST{EVENTS_PATH}"
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert manifest["features"]["app_home"]["home_tab_enabled"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"]
    assert {"commands", "chat:write", "im:write", "im:history", "users:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])


def test_subcommands_are_read_in_every_language(slack: Slack) -> None:
    locales = slack.bot.app.locales
    assert parse_subcommand("", locales) == ("start", "")
    assert parse_subcommand("  HELP ", locales) == ("command", "help")
    assert parse_subcommand("hjälp", locales) == ("command", "help")
    assert parse_subcommand("lang sv", locales) == ("command", "language sv")
    assert parse_subcommand("forget", locales) == ("command", "forget")
    assert parse_subcommand("glöm mig", locales) == ("command", "forget")
    assert parse_subcommand("faq", locales) == ("command", "faq")
    assert parse_subcommand("privacy", locales) == ("command", "privacy")
    assert parse_subcommand("what is this", locales) == ("command", "help")
    for internal in ("followup", "current", "checkin worse"):  # the buttons' and the App's
        assert parse_subcommand(internal, locales) == ("command", "help")


async def test_forget_subcommand_deletes_the_check(slack: Slack) -> None:
    await slack.command("")
    await slack.click(ALICE, "no")
    await slack.command("forget")
    assert "deleted everything" in slack.stub.channel(dm(ALICE))[-1].body()
    await slack.command("")
    assert "Question 1 of about" in slack.question(ALICE).body()


# -- checks by clicking ------------------------------------------------------------------


async def test_red_flag_path_ends_in_call_112(slack: Slack) -> None:
    await slack.command("")
    first = slack.question(ALICE)
    await slack.click(ALICE, "yes")
    assert first.edits == 1 and first.buttons() == []
    assert first.body().endswith("✓ Yes")
    outcome = slack.stub.channel(dm(ALICE))[-1]
    assert "Call 112 now" in outcome.body() and "not a diagnosis" in outcome.body()
    assert [b["value"].split("|")[-1] for b in outcome.buttons()] == ["summary", "restart", "faq"]
    assert outcome.text.startswith("🚑 Call 112 now")


async def _answer_until_the_end(slack: Slack, user: str, prefer: tuple[str, ...]) -> Shown:
    for _ in range(40):
        message = slack.question(user)
        values = [b["value"].split("|")[-1] for b in message.buttons()]
        if "summary" in values:
            return message
        await slack.click(user, next((p for p in prefer if p in values), values[0]))
    raise AssertionError("the check did not finish")


async def test_self_care_path_by_clicking(slack: Slack) -> None:
    await slack.command("")
    outcome = await _answer_until_the_end(slack, ALICE, ("no", "under_1_week"))
    assert "Self-care at home" in outcome.body()
    questions = [m for m in slack.stub.channel(dm(ALICE)) if "Question" in m.body()]
    assert all(m.edits == 1 and not m.buttons() for m in questions)
    await slack.click(ALICE, "summary", message=outcome)
    assert SUMMARY_TITLE in slack.stub.channel(dm(ALICE))[-2].body()


async def test_swedish_from_the_slack_user_locale(slack: Slack) -> None:
    await slack.command("", user=SVEN)
    assert slack.stub.responses[0]["text"].startswith("Jag har skickat ett privat meddelande")
    first = slack.question(SVEN)
    assert "Fråga 1 av" in first.body()
    assert [b["text"]["text"] for b in first.buttons()] == ["Ja", "Nej", "Vet inte"]
    await slack.click(SVEN, "yes")
    assert "Ring 112 nu" in slack.stub.channel(dm(SVEN))[-1].body()


async def test_lang_subcommand_switches_to_swedish(slack: Slack) -> None:
    await slack.command("")
    await slack.command("lang sv")
    assert "Fråga 1 av" in slack.question(ALICE).body()


# -- stale, double and forged clicks -------------------------------------------------------


async def test_a_double_click_says_already_answered_and_changes_nothing(slack: Slack) -> None:
    await slack.command("")
    first = slack.question(ALICE)
    as_shown = Shown(first.channel, first.ts, first.text, copy.deepcopy(first.blocks))
    await slack.click(ALICE, "no", message=first)
    posted, updated = len(slack.api("chat.postMessage")), len(slack.api("chat.update"))
    result = await slack.click(ALICE, "yes", message=as_shown)  # the same message, again
    assert result.status == 200
    notice = slack.stub.channel(dm(ALICE), ALICE)[-1]
    assert notice.user == ALICE and notice.text == "That question has already been answered."
    assert len(slack.api("chat.postMessage")) == posted
    assert len(slack.api("chat.update")) == updated
    assert "Question 2 of about" in slack.question(ALICE).body()


async def test_a_button_from_a_finished_check_is_stale(slack: Slack) -> None:
    await slack.command("")
    first = slack.question(ALICE)
    as_shown = Shown(first.channel, first.ts, first.text, copy.deepcopy(first.blocks))
    await slack.click(ALICE, "yes")
    posted = len(slack.api("chat.postMessage"))
    await slack.click(ALICE, "no", message=as_shown)
    assert slack.api("chat.postEphemeral")[-1]["text"] == "That question has already been answered."
    assert len(slack.api("chat.postMessage")) == posted


@pytest.mark.parametrize(
    "action_id, value",
    [
        ("not_ours", "x|yes"),  # an action we never sent
        ("bc_answer_0", "no-separator"),  # garbled value
        ("bc_answer_0", "tok|" + "x" * 3000),  # oversized
        ("bc_cmd_0", "tok|rm -rf /;"),  # not a command name
    ],
)
async def test_forged_clicks_are_acknowledged_and_ignored(
    slack: Slack, action_id: str, value: str
) -> None:
    forged = {"action_id": action_id, "value": value, "text": {"type": "plain_text", "text": "Yes"}}
    result = await slack.press(ALICE, forged, None)
    assert result.status == 200
    assert [c.method for c in slack.stub.calls if c.method != "auth.test"] == []


async def test_unknown_events_and_interactions_are_acknowledged_and_ignored(slack: Slack
                                                                         ) -> None:
    mention = fixture("event_app_home_opened")
    mention["event"] = {"type": "app_mention", "user": ALICE, "text": "<@U0BCKBOT1> hi",
                        "channel": CHANNEL, "ts": "1700000030.000500"}
    shortcut = {"type": "message_action", "callback_id": "not_ours", "trigger_id": "1.2.3",
                "team": {"id": "T0BCK0001"}, "user": {"id": ALICE}, "channel": {"id": CHANNEL},
                "response_url": slack.stub.response_url(), "message": {"ts": "1.2"}}
    results = [await slack.event(mention), await slack.post(interaction_form(shortcut), FORM)]
    assert [r.status for r in results] == [200, 200]
    assert [c.method for c in slack.stub.calls if c.method != "auth.test"] == []


async def test_a_click_never_posts_outside_the_persons_dm(slack: Slack) -> None:
    await slack.command("")
    message = slack.question(ALICE)
    elsewhere = Shown(CHANNEL, message.ts, message.text, message.blocks)
    await slack.click(ALICE, "no", message=elsewhere)
    for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
        assert slack.api(method, CHANNEL) == []
    assert "Question 2 of about" in slack.question(ALICE).body()


async def test_a_rate_limited_post_is_retried_after_the_wait_slack_asks_for(slack: Slack
                                                                           ) -> None:
    slack.stub.rate_limited["chat.postMessage"] = 1
    await slack.command("", channel=dm(ALICE))
    assert len(slack.api("chat.postMessage")) == 2  # the 429, then the retry
    assert "Question 1 of about" in slack.question(ALICE).body()


async def test_when_no_dm_can_be_opened_the_person_is_told_privately(slack: Slack) -> None:
    slack.stub.errors["conversations.open"] = "cannot_dm_bot"
    await slack.command("")
    assert slack.stub.responses[0]["text"].startswith("I couldn't open a private message")
    assert slack.api("chat.postMessage") == []


async def test_the_events_port_serves_healthz_and_metrics_count_a_check(slack: Slack
                                                                        ) -> None:
    base = slack.url.removesuffix(EVENTS_PATH)
    async with slack.http.get(f"{base}/healthz") as resp:  # no signature needed
        assert (resp.status, await resp.json()) == (200, {"status": "ok"})
    await slack.command("")
    await slack.click(ALICE, "yes")  # a red flag: the check is complete
    async with slack.http.get(f"{base}/metrics") as resp:  # never on the public port
        assert resp.status == 404
    text = metrics_of(slack.bot.app).render().decode()
    assert 'backcheck_checks_completed_total{level="ambulance",platform="slack"} 1.0' in text
    assert 'backcheck_checks_started_total{platform="slack"} 1.0' in text
    assert "backcheck_updates_in_flight 0.0" in text


# -- typed answers and events --------------------------------------------------------------


async def test_typed_answer_in_the_dm(slack: Slack) -> None:
    await slack.command("", channel=dm(ALICE))
    result = await slack.type(ALICE, "no", "Ev0TYPED01")
    assert result.status == 200
    assert "Question 2 of about" in slack.question(ALICE).body()
    assert slack.api("chat.update") == []  # nothing to edit for a typed answer
    posted = len(slack.api("chat.postMessage"))
    await slack.event(fixture("event_message_bot"))  # the bot's own message: ignored
    edited = fixture("event_message_im")
    edited["event_id"] = "Ev0EDITED1"
    edited["event"]["subtype"] = "message_changed"
    await slack.event(edited)
    assert len(slack.api("chat.postMessage")) == posted


async def test_a_retried_event_is_not_processed_twice(slack: Slack) -> None:
    await slack.command("", channel=dm(ALICE))
    payload = fixture("event_message_im")
    first = await slack.event(payload)
    posted = len(slack.api("chat.postMessage"))
    retry = await slack.event(payload, {"X-Slack-Retry-Num": "1",
                                        "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == retry.status == 200
    assert len(slack.api("chat.postMessage")) == posted
    assert "Question 2 of about" in slack.question(ALICE).body()


async def test_app_home_shows_start_language_and_privacy(slack: Slack) -> None:
    await slack.event(fixture("event_app_home_opened"))
    view = slack.stub.views[ALICE]
    texts = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    assert "Start a check" in texts and "Svenska" in texts and "What I store" in texts
    start = next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == kit.START_ACTION)
    home = fixture("block_actions_home")
    home["actions"][0].update(action_id=start["action_id"], value=start["value"])
    await slack.post(interaction_form(home), FORM)
    assert "Question 1 of about" in slack.question(ALICE).body()
    assert "open the Messages tab" in json.dumps(slack.stub.views[ALICE])
    home["actions"][0].update(action_id="bc_lang_sv", value=kit.button_value(None, "language sv"))
    await slack.post(interaction_form(home), FORM)
    assert "Starta kollen" in json.dumps(slack.stub.views[ALICE], ensure_ascii=False)
    assert "Fråga 1 av" in slack.question(ALICE).body()


# -- Socket Mode ---------------------------------------------------------------------------


async def test_socket_mode_runs_the_same_check_without_a_public_url(
    content: tuple[Any, Any],
) -> None:
    stub = SlackStub()
    await stub.start()
    settings = Settings(store="memory://", slack_bot_token=TOKEN, slack_app_token=APP_TOKEN,
                        slack_api_url=stub.api_url)
    bot = create(build_app(settings, MemoryStore(), content=content), settings)
    handler = await start_socket_mode(bot, APP_TOKEN)
    try:
        form = command_form(user_id=ALICE, text="", response_url=stub.response_url())
        fields = dict(urllib.parse.parse_qsl(form))
        ack = await stub.envelope("slash_commands", fields)
        await bot.drain()
        assert ack["envelope_id"].startswith("env-")
        question = [m for m in stub.channel(dm(ALICE)) if m.buttons()][-1]
        assert "Question 1 of about" in question.body()
        assert stub.responses[0]["text"].startswith("I've sent you a private message")
        click = fixture("block_actions")
        click["container"]["message_ts"] = click["message"]["ts"] = question.ts
        click["response_url"] = stub.response_url()
        click["actions"][0]["value"] = question.buttons()[0]["value"]  # yes
        await stub.envelope("interactive", click)
        await bot.drain()
        assert "Call 112 now" in stub.channel(dm(ALICE))[-1].body()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await stub.stop()
    assert_valid_blocks(stub)


# -- load and logs -------------------------------------------------------------------------


async def test_fifty_simultaneous_commands_are_each_acknowledged_within_3_seconds(
    slack: Slack,
) -> None:
    users = [f"U0LOAD{i:04d}" for i in range(50)]
    results = await asyncio.gather(*(slack.command("", user=u, drain=False) for u in users))
    assert all(r.status == 200 for r in results)
    assert max(r.seconds for r in results) < 3.0
    await slack.bot.drain()
    assert all("Question 1 of about" in slack.question(u).body() for u in users)


async def test_logs_never_hold_message_text(slack: Slack, caplog: pytest.LogCaptureFixture
                                             ) -> None:
    caplog.set_level(logging.DEBUG)
    await slack.command("", channel=dm(ALICE))
    await slack.type(ALICE, "my secret symptom words", "Ev0SECRET1")
    await slack.click(ALICE, "yes")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret symptom" not in logged
    assert ALICE not in logged
    assert "Call 112" not in logged


# -- rendering and configuration -----------------------------------------------------------


def test_a_long_outcome_is_split_cleanly_within_slack_limits() -> None:
    parts = tuple(f"Part {i}\n\n" + ("word " * 900).strip() for i in range(30))
    reply = Reply("outcome", "\n\n".join(parts), (Button("command", "restart", "Start again"),),
                  token="abc.3", sections=parts)
    messages = kit.render(reply)
    blocks = [b for m in messages for b in m["blocks"]]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(messages) >= 2 and all(len(m["blocks"]) <= kit.BLOCKS_MAX for m in messages)
    assert all(len(s) <= kit.SECTION_MAX for s in sections)
    assert " ".join(" ".join(sections).split()) == " ".join(" ".join(parts).split())
    assert messages[-1]["blocks"][-1]["type"] == "actions"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


def test_long_button_labels_and_markup_are_made_safe() -> None:
    reply = Reply("question", "Pain <b>&</b> tingling", (Button("answer", "yes", "Y" * 120),),
                  token="t.1")
    [message] = kit.render(reply)
    assert message["blocks"][0]["text"]["text"] == "Pain &lt;b&gt;&amp;&lt;/b&gt; tingling"
    assert len(message["blocks"][1]["elements"][0]["text"]["text"]) == kit.BUTTON_TEXT_MAX
    assert kit.parse_value(message["blocks"][1]["elements"][0]["value"]) == ("t.1", "yes")


@pytest.mark.parametrize(
    "env, variable",
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_missing_settings_are_named_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    env: dict[str, str], variable: str,
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BACKCHECK_STORE", "memory://")
    assert cli.main(["slack"]) == 2
    assert variable in capsys.readouterr().err
