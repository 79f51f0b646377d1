"""Wellness channels: tips on a schedule, follow-ups, anonymous totals (core, with a
recording outbox; the platform tests drive the same through the stand-in servers)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.errors import ConfigError
from bot.stores import MemoryStore
from bot.types import Incoming, Reply, SessionKey
from bot.wellness import stats
from bot.wellness.scheduler import Scheduler
from bot.wellness.settings import WellnessSettings
from tests.support import make_app, pick, shipped

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ENV = {"BACKCHECK_TIPS_CRON": "0 9 * * MON", "BACKCHECK_TIPS_TZ": "Europe/Stockholm",
       "BACKCHECK_TIPS_TARGETS": "slack:C1,telegram:-100,slack:C2",
       "BACKCHECK_ADMINS": "slack:ULEAD,telegram:42"}


class Clock:
    def __init__(self, when: dt.datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


class Outbox:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.posts: list[tuple[str, str, str]] = []
        self.sent: list[tuple[SessionKey, Sequence[Reply]]] = []

    async def post_tip(self, target: str, text: str, button: str) -> None:
        self.posts.append((target, text, button))

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        self.sent.append((key, replies))


def app_at(when: dt.datetime, store: MemoryStore | None = None, **env: str) -> App:
    app = make_app(store or MemoryStore(), **{**ENV, **env})
    app.clock = Clock(when)
    return app


async def test_tips_rotate_without_repeats_until_all_are_shown() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 8, tzinfo=STOCKHOLM))
    slack = Outbox("slack")
    scheduler = Scheduler(app, {"slack": slack})
    assert len(scheduler.tips) >= 12
    for _ in range(len(scheduler.tips) + 1):
        assert await scheduler.post_now() == 2  # the two Slack channels
    texts = [text for target, text, _ in slack.posts if target == "C1"]
    assert len(set(texts[:-1])) == len(scheduler.tips)
    assert texts[-1] == texts[0]
    assert all(button == "Take the 5-minute check" for _, _, button in slack.posts)
    assert texts[0].startswith("💡 Back tip of the week\n\n")


async def test_the_schedule_fires_at_nine_on_monday_stockholm_time_once() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 8, 59, 50, tzinfo=STOCKHOLM))
    slack, telegram = Outbox("slack"), Outbox("telegram")
    scheduler = Scheduler(app, {"slack": slack, "telegram": telegram})
    last = await scheduler.tick(dt.datetime.fromtimestamp(app.clock(), dt.UTC))
    assert slack.posts == [] and telegram.posts == []
    app.clock.now += 20  # type: ignore[attr-defined]
    last = await scheduler.tick(last)
    assert [p[0] for p in slack.posts] == ["C1", "C2"]
    assert [p[0] for p in telegram.posts] == ["-100"]
    assert telegram.posts[0][1] == slack.posts[0][1]
    app.clock.now += 3600  # type: ignore[attr-defined]
    await scheduler.tick(last)
    assert len(slack.posts) == 2, "one slot, one post"


async def test_two_replicas_sharing_a_store_post_each_slot_once() -> None:
    store = MemoryStore()
    start = dt.datetime(2026, 11, 30, 8, 59, tzinfo=STOCKHOLM)
    replicas = [app_at(start, store) for _ in range(2)]
    boxes = [Outbox("slack") for _ in replicas]
    schedulers = [Scheduler(app, {"slack": box}) for app, box in zip(replicas, boxes, strict=True)]
    lasts = [dt.datetime.fromtimestamp(start.timestamp(), dt.UTC)] * 2
    for app in replicas:
        app.clock.now += 120  # type: ignore[attr-defined]
    for i, scheduler in enumerate(schedulers):
        lasts[i] = await scheduler.tick(lasts[i])
    assert sum(len(box.posts) for box in boxes) == 2  # C1 and C2, by one replica


async def finish_self_care_check(app: App, key: SessionKey) -> list[Reply]:
    replies = await app.handle(Incoming(key, "start"))
    while replies[-1].kind != "outcome":
        node = replies[-1].node
        answer = pick(str(node), {})
        replies = await app.handle(Incoming(key, "answer", answer, replies[-1].token))
    return replies


async def test_follow_up_offered_scheduled_delivered_once_and_worse_leads_back() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    key = SessionKey("slack", "T1", "D1", "U1")
    outcome = (await finish_self_care_check(app, key))[-1]
    offer = [b for b in outcome.buttons if b.value == "followup"]
    assert offer and offer[0].label == "Check in with me in 7 days"
    booked = await app.handle(Incoming(key, "command", "followup", outcome.token))
    assert booked[0].text.startswith("OK – I'll check in with you here on 2026-12-07")
    box = Outbox("slack")
    scheduler = Scheduler(app, {"slack": box})
    assert await scheduler.deliver_followups() == 0
    app.clock.now += 7 * 86400 + 1  # type: ignore[attr-defined]
    assert await scheduler.deliver_followups() == 1
    assert await scheduler.deliver_followups() == 0, "sent once"
    (to, (ask,)), = box.sent
    assert to == key and ask.text.endswith("How are you now?")
    assert [b.label for b in ask.buttons] == ["Better", "About the same", "Worse"]
    worse = await app.handle(Incoming(key, "command", ask.buttons[2].value))
    assert "Seek help at once if:" in worse[0].text
    assert worse[0].buttons[0].label == "Take the check again"
    again = await app.handle(Incoming(key, "command", worse[0].buttons[0].value))
    assert again[-1].node == "cold_pale_foot"


async def test_forget_cancels_a_follow_up() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    key = SessionKey("telegram", "bot", "5", "5")
    outcome = (await finish_self_care_check(app, key))[-1]
    await app.handle(Incoming(key, "command", "followup", outcome.token))
    await app.handle(Incoming(key, "command", "forget"))
    app.clock.now += 8 * 86400  # type: ignore[attr-defined]
    assert await Scheduler(app, {"telegram": Outbox("telegram")}).deliver_followups() == 0


async def test_no_follow_up_after_an_emergency() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    key = SessionKey("slack", "T1", "D1", "U2")
    first = await app.handle(Incoming(key, "start"))
    outcome = (await app.handle(Incoming(key, "answer", "yes", first[-1].token)))[-1]
    assert "followup" not in [b.value for b in outcome.buttons]
    refused = await app.handle(Incoming(key, "command", "followup"))
    assert refused[0].text.startswith("A check-in can be booked after")


async def test_totals_hide_small_counts_and_refuse_non_admins() -> None:
    app = app_at(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    for i in range(6):
        await finish_self_care_check(app, SessionKey("slack", "T1", f"D{i}", f"U{i}"))
    first = await app.handle(Incoming(SessionKey("slack", "T1", "Dx", "Ux"), "start"))
    await app.handle(Incoming(SessionKey("slack", "T1", "Dx", "Ux"), "answer", "yes",
                              first[-1].token))
    lead = await app.handle(Incoming(SessionKey("slack", "T1", "DL", "ULEAD"), "command", "stats"))
    text = lead[0].text
    assert "2026-W49  ████████████████████ 6" in text
    assert "🚑 Call an ambulance\n  2026-W49  ▏ <5" in text
    assert "All levels: 2026-W49: hidden" in text  # 7 - 6 would give the ambulance away
    assert "U1" not in text
    other = await app.handle(Incoming(SessionKey("slack", "T1", "D1", "U1"), "command", "stats"))
    assert other[0].text == "Sorry, the totals are only for this workplace's wellness leads."
    swedish = await app.handle(Incoming(SessionKey("telegram", "b", "42", "42"), "text",
                                        "statistik", lang_hint="sv"))
    assert swedish[0].text.startswith("📊 Genomförda ryggkollar")


def hidden_cells_worked_out(weeks: Sequence[str], levels: tuple[str, ...],
                            counts: range, lang: str = "en") -> list[str]:
    """Render every table of `counts` over these weeks and levels and read them as a
    wellness lead who knows the rule would: tables that print the same text cannot be told
    apart. A cell shown as "<5" is worked out when every table printing that text has the
    same number in it. Returns the texts where that happens (none, when suppression works)."""
    tr = shipped()[1].translator(lang, "SE")
    cells = [(w, level) for w in weeks for level in levels]
    seen: defaultdict[str, list[tuple[int, ...]]] = defaultdict(list)
    for values in itertools.product(counts, repeat=len(cells)):
        table: dict[str, dict[str, int]] = {w: {} for w in weeks}
        for (w, level), n in zip(cells, values, strict=True):
            table[w][level] = n
        seen[stats.render(table, tr, levels)].append(values)
    leaks = []
    for text, tables in seen.items():
        for i, _ in enumerate(cells):
            found = {t[i] for t in tables}
            if stats.hidden(tables[0][i]) and len(found) == 1:
                leaks.append(text)
    return leaks


def test_no_hidden_count_can_be_worked_out_from_a_week_of_five_levels() -> None:
    """Every table of one week, five levels, counts 0-5 (7,776 tables)."""
    levels = shipped()[0].levels
    assert len(levels) == 5
    assert hidden_cells_worked_out(["2026-W49"], levels, range(6)) == []


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_no_hidden_count_can_be_worked_out_across_weeks_and_bars(lang: str) -> None:
    """Every table of two weeks and two levels, counts 0-7: the bars, scaled to the largest
    count shown, and the other week's numbers give nothing away either."""
    levels = shipped()[0].levels[-2:]
    assert hidden_cells_worked_out(["2026-W48", "2026-W49"], levels, range(8), lang) == []


@pytest.mark.parametrize(("name", "value", "words"), [
    ("BACKCHECK_TIPS_CRON", "every monday", "BACKCHECK_TIPS_CRON='every monday'"),
    ("BACKCHECK_TIPS_TZ", "Mars/Olympus", "BACKCHECK_TIPS_TZ='Mars/Olympus'"),
    ("BACKCHECK_TIPS_TARGETS", "discord:1", "BACKCHECK_TIPS_TARGETS: 'discord:1'"),
    ("BACKCHECK_FOLLOWUP_DAYS", "soon", "BACKCHECK_FOLLOWUP_DAYS='soon'"),
])
def test_wellness_settings_errors_name_the_variable(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WellnessSettings.from_env({name: value})
    assert str(caught.value).startswith(words)
