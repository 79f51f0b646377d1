"""Wellness on Teams through the real Agents SDK: tips posted to a channel by the
scheduler (its outbox sends as the bot, proactively), the tip's button leading to the
personal chat, an opted-in follow-up arriving there, `forget` cancelling it, and the
anonymous totals only for admins (BACKCHECK_ADMINS=teams:<aad object id>)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from support import make_app, pick
from teams_stub import ALICE, SVEN, Connector, Teams, buttons, microsoft_side, seen
from test_teams import running, settings

from bot.adapters.teams.outbox import TeamsOutbox, created, scheduler
from bot.adapters.teams.serve import create
from bot.app import App
from bot.stores.base import FOLLOWUP, SESSION

CHANNEL = "19:wellness0000@thread.tacv2"
ENV = {"BACKCHECK_TIPS_TARGETS": f"teams:{CHANNEL}", "BACKCHECK_ADMINS": f"teams:{ALICE}"}


@pytest.fixture
async def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Teams]:
    async with microsoft_side(tmp_path / "certs", monkeypatch) as (_, connector), \
            aiohttp.ClientSession() as http:
        bot, runner = await running(make_app(**ENV), connector, http)
        yield bot
        await runner.cleanup()


def outbox(teams: Teams) -> TeamsOutbox:
    agent, adapter, _ = create(teams.app, settings(teams.connector))
    return TeamsOutbox(adapter, settings(teams.connector), agent.send)


async def self_care(teams: Teams, user: str) -> tuple[str, dict[str, object]]:
    """Finish a check with "no" to everything; the outcome's (message id, message)."""
    await teams.say(user, "start")
    app: App = teams.app
    for _ in range(60):
        open_ = [r for _, r in await app.store.scan(SESSION) if not r.data.get("done")]
        if not open_:
            return teams.newest_with_buttons(user)
        message_id, card = teams.newest_with_buttons(user)
        answer = pick(str(open_[0].data["node"]), {})
        button = next(b for b in buttons(card)
                      if b["data"]["backcheck"].endswith(f"|{answer}"))
        await teams.press(user, button, message_id)
    raise AssertionError("the check never ended")


async def test_a_tip_reaches_the_channel_and_its_button_leads_to_the_personal_chat(
        teams: Teams) -> None:
    connector: Connector = teams.connector
    assert await scheduler(teams.app, outbox(teams)).post_now() == 1
    [tip] = connector.messages(CHANNEL)
    [take] = buttons(tip)
    assert take["title"] == teams.app.text("en", "tips.button")
    assert "conversation" in tip and tip["conversation"]["id"] == CHANNEL
    connector.installed.add(SVEN)
    await teams.press(SVEN, take, "m1", chat=CHANNEL, kind="channel")
    assert teams.seen(SVEN, CHANNEL).count(teams.app.text("en", "shared.redirect")) == 1
    assert teams.app.text("en", "q.cold_pale_foot.text") in teams.seen(SVEN)
    assert teams.app.text("en", "q.cold_pale_foot.text") not in teams.seen(SVEN, CHANNEL)


async def test_a_follow_up_arrives_in_the_personal_chat_and_forget_cancels_it(
        teams: Teams) -> None:
    app: App = teams.app
    message_id, outcome = await self_care(teams, ALICE)
    offer = next(b for b in buttons(outcome) if b["data"]["backcheck"].endswith("|followup"))
    await teams.press(ALICE, offer, message_id)
    [(key, record)] = await app.store.scan(FOLLOWUP)
    await app.store.put(FOLLOWUP, key, {**record.data, "due": 0}, version=record.version)
    assert await scheduler(app, outbox(teams)).deliver_followups() == 1
    ask = list(teams.chat(ALICE).values())[-1]
    assert seen(ask).startswith(app.text("en", "followup.ask"))
    assert [b["title"] for b in buttons(ask)] == [
        app.text("en", f"followup.{how}") for how in ("better", "same", "worse")]

    await teams.press(ALICE, offer, message_id)  # booked again, then forgotten
    assert await app.store.scan(FOLLOWUP)
    await teams.say(ALICE, "forget")
    assert await app.store.scan(FOLLOWUP) == []


async def test_only_admins_get_the_anonymous_totals(teams: Teams) -> None:
    await self_care(teams, SVEN)
    await teams.say(SVEN, "stats")
    assert teams.app.text("en", "stats.refused") in teams.seen(SVEN)
    await teams.say(ALICE, "stats")
    assert teams.app.text("en", "stats.title") in teams.seen(ALICE)


async def test_the_outbox_outside_the_bot_posts_as_the_bot(teams: Teams) -> None:
    async with created(teams.app, settings(teams.connector)) as box:
        await box.post_tip(CHANNEL, "A tip", "Take the check")
    assert [seen(m) for m in teams.connector.messages(CHANNEL)] == ["A tip\nTake the check"]
