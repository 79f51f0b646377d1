"""Opt-in follow-ups: "check in with me in 7 days", then "how are you now?".

A follow-up is one record per conversation in the FOLLOWUP namespace, naming the person
so `forget` cancels it. Due ones are claimed with compare-and-set, so with several
replicas each is sent once; a claim not completed within CLAIM_SECONDS (a replica died
mid-send) is taken over by another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from bot.engine import render, triage
from bot.engine.flow import Flow
from bot.engine.machine import State
from bot.errors import VersionConflict
from bot.i18n import Locales
from bot.stores.base import FOLLOWUP, SESSION, Store
from bot.types import Button, Incoming, Reply, SessionKey
from bot.wellness.settings import WellnessSettings

CLAIM_SECONDS = 600.0
HOW = ("better", "same", "worse")


class App(Protocol):
    """What follow-ups need of the App (bot.app.App is one), without importing it."""

    flow: Flow
    locales: Locales
    region: str
    store: Store
    wellness: WellnessSettings
    default_lang: str
    clock: Callable[[], float]

    def text(self, lang: str, key: str, **params: object) -> str: ...


async def opt_in(app: App, incoming: Incoming, lang: str) -> list[Reply]:
    """Schedule a check-in after a self-care or appointment result."""
    key = incoming.key
    record = await app.store.get(SESSION, key.id())
    state = State.from_dict(record.data, app.flow) if record else None
    if state is None or not state.done or (
            triage.level_of(app.flow, state.answers) not in app.flow.followup):
        return [Reply("message", app.text(lang, "followup.not_now"))]
    delay = app.wellness.followup_days * 86400
    due = app.clock() + delay
    data = {"due": due, "lang": lang, "platform": key.platform, "workspace": key.workspace,
            "chat": key.chat, "user": key.user}
    existing = await app.store.get(FOLLOWUP, key.id())
    await app.store.put(FOLLOWUP, key.id(), data, version=existing.version if existing else 0,
                        ttl=delay + 14 * 86400, person=key.person())
    day = dt.datetime.fromtimestamp(due, dt.UTC).date().isoformat()
    return [Reply("message", app.text(lang, "followup.scheduled", date=day))]


async def claim_due(app: App, platforms: set[str]) -> list[tuple[SessionKey, str]]:
    """Take every due follow-up for these platforms; each is returned to one caller only."""
    now = app.clock()
    claimed = []
    for key_id, record in await app.store.scan(FOLLOWUP):
        data: dict[str, Any] = record.data
        if data.get("platform") not in platforms or float(data.get("due", now + 1)) > now:
            continue
        if now - float(data.get("claimed", 0)) < CLAIM_SECONDS:
            continue
        key = SessionKey(data["platform"], data["workspace"], data["chat"], data["user"])
        try:
            await app.store.put(FOLLOWUP, key_id, {**data, "claimed": now},
                                version=record.version, ttl=CLAIM_SECONDS * 2,
                                person=key.person())
        except VersionConflict:
            continue
        claimed.append((key, str(data.get("lang", app.default_lang))))
    return claimed


async def done(app: App, key: SessionKey) -> None:
    """A claimed follow-up was delivered: remove it."""
    await app.store.delete(FOLLOWUP, key.id())


def ask(app: App, lang: str) -> Reply:
    """The check-in question with better / the same / worse."""
    buttons = tuple(Button("command", f"checkin {how}", app.text(lang, f"followup.{how}"))
                    for how in HOW)
    return Reply("message", app.text(lang, "followup.ask"), buttons)


def answer(app: App, lang: str, how: str) -> list[Reply]:
    """Better: glad to hear it. The same or worse: the warning signs, and the check again."""
    if how == "better":
        return [Reply("message", app.text(lang, "followup.glad"))]
    text = app.text(lang, "followup.not_better") + "\n\n" + render.safety_net(
        app.flow, app.locales.translator(lang, app.region))
    return [Reply("message", text, (Button("command", "start", app.text(lang, "followup.again")),))]
