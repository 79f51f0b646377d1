"""Shared test helpers: a push/pop test bot over the console adapter and the memory store,
and a scripted "patient" that answers whatever the flow asks from a dict of answers."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from bot.adapters.console import Console
from bot.app import App
from bot.config import Settings
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import Locales, load_locales
from bot.stores import MemoryStore
from bot.stores.base import Store
from bot.wellness.settings import WellnessSettings

# What a patient with no symptom beyond back pain and tingling answers by default.
DEFAULTS = {"duration": "under_1_week", "trend": "better"}


@functools.cache
def shipped() -> tuple[Flow, Locales]:
    """The shipped flow and locales, read once per test run."""
    locales = load_locales(LOCALES_DIR)
    return load_flow(DEFAULT_FLOW, locales), locales


def make_app(store: Store | None = None, **env: str) -> App:
    """The shipped flow and locales over a memory store (or the one given)."""
    settings = Settings.from_env({"BACKCHECK_STORE": "memory://", **env})
    flow, locales = shipped()
    return App(flow, locales, store if store is not None else MemoryStore(),
               region=settings.region, default_lang=settings.default_lang,
               session_ttl=settings.session_ttl, wellness=WellnessSettings.from_env(env))


class TestBot:
    """Push what a person types, pop what the bot printed (errbot's testbot, for backcheck)."""

    __test__ = False

    def __init__(self, app: App | None = None, *, lang: str = "en", json_mode: bool = False):
        self.app = app or make_app()
        self.console = Console(self.app, lang=lang, json_mode=json_mode, user="tester")
        self.outbox: list[str] = []

    async def start(self) -> None:
        self.outbox += await self.console.start()

    async def push(self, line: str) -> None:
        self.outbox += await self.console.feed(line)

    def pop(self) -> str:
        return self.outbox.pop(0)

    def pop_all(self) -> list[str]:
        out, self.outbox = self.outbox, []
        return out


async def run_check(answers: Mapping[str, str], *, lang: str = "en",
                    app: App | None = None) -> tuple[dict[str, Any], list[str]]:
    """Answer every question from `answers` (default "no"), as the JSON protocol client of
    SPEC section 6 would. Returns the outcome message and the question ids asked."""
    bot = TestBot(app, lang=lang, json_mode=True)
    await bot.start()
    asked: list[str] = []
    for _ in range(60):
        message = json.loads(bot.pop_all()[-1])
        if message["type"] == "outcome":
            return message, asked
        assert message["type"] == "question", message
        asked.append(message["id"])
        answer = answers.get(message["id"], DEFAULTS.get(message["id"], "no"))
        await bot.push(json.dumps({"answer": answer}))
    raise AssertionError(f"no outcome after 60 questions: {asked}")
