"""Composes flow + store + locales: the one place a turn happens.

A turn: load the person's session, run the pure engine step, save the session with
compare-and-set, and return the replies. Adapters call `App.handle` and render what
comes back; they never touch the store or the engine themselves.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.engine.machine import State, parse_command, step
from bot.engine.triage import level_of
from bot.errors import CorruptRecord, StoreError, VersionConflict
from bot.i18n import Locales, detect_lang, load_locales
from bot.ops import instrument
from bot.stores import open_sealed
from bot.stores.base import PREFS, SESSION, Store
from bot.types import Incoming, Reply, SessionKey
from bot.wellness import followup, stats
from bot.wellness.settings import WellnessSettings

log = logging.getLogger("backcheck.app")

MAX_TEXT = 4000  # longer typed messages are not read, only answered kindly
RETRIES = 8

# One update in, the replies out; a middleware wraps one (bot/ops.py: metrics, in-flight).
Turn = Callable[[Incoming], Awaitable[list[Reply]]]
Middleware = Callable[[Incoming, Turn], Awaitable[list[Reply]]]


class App:
    """The conversation service every adapter shares."""

    def __init__(
        self,
        flow: Flow,
        locales: Locales,
        store: Store,
        *,
        region: str = "SE",
        default_lang: str = "en",
        session_ttl: float = 86400.0,
        clock: Callable[[], float] = time.time,
        wellness: WellnessSettings | None = None,
    ) -> None:
        self.flow, self.locales, self.store = flow, locales, store
        self.wellness = wellness or WellnessSettings()
        self.region, self.default_lang = region, default_lang
        self.session_ttl, self.clock = session_ttl, clock
        self.listeners: list[Callable[[Incoming, State | None, State | None], None]] = []
        self.middleware: list[Middleware] = []  # around every `handle`, outermost first
        self.failures: list[Callable[[Incoming, Exception], None]] = []  # store failed a turn

    def text(self, lang: str, key: str, **params: object) -> str:
        """A localized string for adapters (e.g. "I've sent you a private message")."""
        return self.locales.translator(lang, self.region).t(key, **params)

    async def language(self, key: SessionKey, lang_hint: str | None = None) -> str:
        """The person's language: their saved choice, else the platform's, else the default.
        Never raises: a store that is down falls back to the hint."""
        try:
            rec = await self.store.get(PREFS, key.person())
        except StoreError:
            rec = None
        if rec is not None and rec.data.get("lang") in self.locales.langs:
            return str(rec.data["lang"])
        return detect_lang(lang_hint, self.locales.langs, self.default_lang)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Run one turn. Never raises for bad input or a failing store: the person always
        gets a reply in their language."""
        turn: Turn = self._handle
        for wrap in reversed(self.middleware):
            turn = _wrapped(wrap, turn)
        return await turn(incoming)

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        if len(incoming.value) > MAX_TEXT:
            incoming = replace(incoming, kind="text", value=incoming.value[:MAX_TEXT])
        try:
            command = command_of(incoming, self.locales)
            if command == "forget":
                return await self._forget(incoming)
            if command.split(" ")[0] in ("followup", "checkin", "stats"):
                return await self._wellness(incoming, command)
            if command.split(" ")[0] == "language" and (
                    await self.store.get(SESSION, incoming.key.id()) is None):
                return await self._set_language(incoming, command.partition(" ")[2])
            for _ in range(RETRIES):
                try:
                    return await self._turn(incoming)
                except VersionConflict:
                    continue
            raise StoreError("too many concurrent updates for one conversation")
        except StoreError as exc:
            log.warning("store error for user %s: %s", incoming.key.hashed(), type(exc).__name__)
            for failure in self.failures:
                failure(incoming, exc)
            lang = detect_lang(incoming.lang_hint, self.locales.langs, self.default_lang)
            return [Reply(kind="error", text=self.text(lang, "errors.unavailable"))]

    async def _turn(self, incoming: Incoming) -> list[Reply]:
        key = incoming.key
        notices: list[Reply] = []
        try:
            rec = await self.store.get(SESSION, key.id())
        except CorruptRecord:
            rec = None
            lang = await self.language(key, incoming.lang_hint)
            notices.append(Reply(kind="message", text=self.text(lang, "errors.corrupt")))
        state = None
        if rec is not None:
            try:
                state = State.from_dict(rec.data, self.flow)
            except ValueError:
                log.warning("unreadable session for user %s dropped", key.hashed())
                await self._drop(key, rec.version)
                rec = None
                lang = await self.language(key, incoming.lang_hint)
                notices.append(Reply(kind="message", text=self.text(lang, "errors.corrupt")))
        if state is None:
            lang = await self.language(key, incoming.lang_hint)
            state = State.new(self.flow, lang, secrets.token_urlsafe(6))
        before = state
        after, replies = step(self.flow, state, incoming, self.locales, self.region,
                              self.wellness.followup_days)
        version = 0 if rec is None else rec.version
        if after is None:
            if rec is not None:
                await self._drop(key, version)
        elif after != before or (rec is None and any(r.token for r in replies)):
            await self.store.put(
                SESSION, key.id(), after.to_dict(), version=version,
                ttl=self.session_ttl, person=key.person(),
            )
        if after is not None and after.lang != before.lang:
            await self._save_lang(key, after.lang)
        if after is not None and after.done and not before.done:
            await stats.record_completion(self.store, level_of(self.flow, after.answers),
                                          self.clock(), self.wellness.stats_weeks)
        for listener in self.listeners:
            listener(incoming, before if rec is not None else None, after)
        return notices + replies

    async def _drop(self, key: SessionKey, version: int) -> None:
        """Delete a session, but only if nobody changed it since we read it."""
        await self.store.put(SESSION, key.id(), {}, version=version, ttl=1, person=key.person())
        await self.store.delete(SESSION, key.id())

    async def _save_lang(self, key: SessionKey, lang: str) -> None:
        rec = await self.store.get(PREFS, key.person())
        await self.store.put(
            PREFS, key.person(), {"lang": lang},
            version=0 if rec is None else rec.version, person=key.person(),
        )

    async def _set_language(self, incoming: Incoming, wanted: str) -> list[Reply]:
        """Outside a check, a language choice is only remembered: no check is started."""
        current = await self.language(incoming.key, incoming.lang_hint)
        langs = self.locales.langs
        lang = wanted if wanted in langs else langs[(langs.index(current) + 1) % len(langs)]
        await self._save_lang(incoming.key, lang)
        return [Reply(kind="message", text=self.text(lang, "language_switched"))]

    async def _wellness(self, incoming: Incoming, command: str) -> list[Reply]:
        lang = await self.language(incoming.key, incoming.lang_hint)
        name, _, arg = command.partition(" ")
        if name == "followup":
            return await followup.opt_in(self, incoming, lang)
        if name == "checkin":
            return followup.answer(self, lang, arg if arg in followup.HOW else "same")
        if not self.wellness.is_admin(incoming.key.platform, incoming.key.user):
            return [Reply(kind="message", text=self.text(lang, "stats.refused"))]
        table = await stats.totals(self.store)
        return [Reply(kind="message", text=stats.render(table, self.locales.translator(
            lang, self.region), self.flow.levels))]

    async def _forget(self, incoming: Incoming) -> list[Reply]:
        lang = await self.language(incoming.key, incoming.lang_hint)
        await self.store.forget(incoming.key.person())
        log.info("forgot user %s", incoming.key.hashed())
        return [Reply(kind="message", text=self.text(lang, "commands.forgotten"))]


def _wrapped(middleware: Middleware, inner: Turn) -> Turn:
    async def turn(incoming: Incoming) -> list[Reply]:
        return await middleware(incoming, inner)

    return turn


def command_of(incoming: Incoming, locales: Locales) -> str:
    """The command an event carries, by button, slash command or typed word ("" if none).
    forget, follow-ups and totals are the App's; every other command is the engine's."""
    if incoming.kind == "command":
        return incoming.value.strip()
    if incoming.kind == "text":
        return parse_command(incoming.value, locales) or ""
    return ""


def build_app(settings: Settings, store: Store | None = None,
              wellness: WellnessSettings | None = None) -> App:
    """The App for these settings: the shipped (or configured) flow, the locales, the store."""
    locales = load_locales(LOCALES_DIR)
    flow = load_flow(Path(settings.flow) if settings.flow else DEFAULT_FLOW, locales)
    app = App(
        flow,
        locales,
        store if store is not None else open_sealed(settings.store, settings.secret_key),
        region=settings.region,
        default_lang=settings.default_lang,
        session_ttl=settings.session_ttl,
        wellness=wellness if wellness is not None else WellnessSettings.from_env(),
    )
    instrument(app)  # metrics, /healthz and finishing in-flight updates at shutdown
    return app
