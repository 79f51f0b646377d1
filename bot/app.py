"""Composes flow + store + locales: the one place a turn happens.

A turn: load the person's session, run the pure engine step, save the session with
compare-and-set, and return the replies. Adapters call `App.handle` and render what
comes back; they never touch the store or the engine themselves.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot import commands, dsr
from bot.commands import Command
from bot.config import is_admin
from bot.engine.flow import Flow
from bot.engine.machine import State, step
from bot.engine.triage import level_of
from bot.errors import CorruptRecord, StoreError, StoreUnavailable, VersionConflict
from bot.hooks import Middleware, Observer, Turn
from bot.i18n import Locales, detect_lang
from bot.inflight import InFlight
from bot.platform import Capabilities
from bot.stores.base import PREFS, SESSION, Record, Store
from bot.types import Button, Home, Incoming, Reply, SessionKey
from bot.wellness import followup, stats
from bot.wellness.settings import WellnessSettings

log = logging.getLogger("backcheck.app")

MAX_TEXT = 4000  # longer typed messages are not read, only answered kindly
RETRIES = 8
# A platform the App was not told about may do everything (tests that build an App alone).
UNKNOWN = Capabilities(can_edit=True, shared_chats=True, can_follow_up=True)


class App:
    """The conversation service every adapter shares, and the one place every policy
    lives: what a shared chat gets, what follows a failed send, which commands exist.

    Built in the open by `bot.compose.build_app`: `middleware` wraps every turn
    (outermost first, after the in-flight tracker), `observers` hear every turn and
    failure, `capabilities` says what each platform can do. Nothing is attached later.
    """

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
        admins: frozenset[str] = frozenset(),
        capabilities: Mapping[str, Capabilities] | None = None,
        middleware: Sequence[Middleware] = (),
        observers: Sequence[Observer] = (),
        in_flight: InFlight | None = None,
    ) -> None:
        self.flow, self.locales, self.store = flow, locales, store
        self.wellness = wellness or WellnessSettings()
        self.region, self.default_lang = region, default_lang
        self.session_ttl, self.clock = session_ttl, clock
        self.admins = admins
        self.capabilities: Mapping[str, Capabilities] = dict(capabilities or {})
        self.in_flight = in_flight or InFlight()
        self.observers: tuple[Observer, ...] = tuple(observers)
        self.middleware: tuple[Middleware, ...] = (self.in_flight.middleware, *middleware)
        turn: Turn = self._handle
        for wrap in reversed(self.middleware):
            turn = _wrapped(wrap, turn)
        self._turn_chain = turn

    def text(self, lang: str, key: str, **params: object) -> str:
        """A localized string for adapters (e.g. "I've sent you a private message")."""
        return self.locales.translator(lang, self.region).t(key, **params)

    async def home(self, key: SessionKey, lang_hint: str | None = None,
                   notice: str = "") -> Home:
        """The home view in the person's language: start, language, privacy. `notice` is a
        locale key shown under the start button ("" for none)."""
        lang = await self.language(key, lang_hint)
        tr = self.locales.translator(lang, self.region)
        languages = tuple(
            Button("command", f"language {code}", self.locales.translator(code).t("lang_name"))
            for code in self.locales.langs)
        return Home(tr.t("home.title"), tr.t("home.intro"),
                    Button("command", "start", tr.t("home.start")), tr.t("home.language_title"),
                    tr.t("home.language"), languages, tr.t("home.privacy_title"),
                    tr.t("privacy"), tr.t(notice) if notice else "")

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
        return await self._turn_chain(incoming)

    async def recover(self, key: SessionKey, lang_hint: str | None = None) -> list[Reply]:
        """After a send failed: an apology and where the check stands now (the open
        question, or the whole result again), never "please try again", which could make a
        person type an answer to a question they have not seen."""
        return await self.handle(Incoming(key, "command", "current", lang_hint=lang_hint))

    def report(self, platform: str, kind: str) -> None:
        """An adapter's own failure, e.g. (platform, "send") or (platform, "rate_limited").
        `kind` must come from a small fixed set: observers use it as a metric label."""
        for observer in self.observers:
            observer.failed(platform, kind)

    def can(self, platform: str) -> Capabilities:
        """What this platform can do (bot/platforms.py)."""
        return self.capabilities.get(platform, UNKNOWN)

    def words_for(self, platform: str) -> Locales:
        """The locales with this platform's own words in place (the terminal never says
        "tap a button"): chosen here, by the platform's description, not in its adapter."""
        return self.locales.variant(self.can(platform).wording)

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        if len(incoming.value) > MAX_TEXT:
            incoming = replace(incoming, kind="text", value=incoming.value[:MAX_TEXT])
        try:
            command = commands.of(incoming, self.locales)
            if incoming.shared and not self._answered_in_place(incoming, command):
                return [await self._redirect(incoming)]
            if command is not None:
                incoming = replace(incoming, kind="command", value=command.text())
                if command.spec.owner == "app":
                    return await self._app_command(incoming, command)
                if command.name == "language" and (
                        await self.store.get(SESSION, incoming.key.id()) is None):
                    return await self._set_language(incoming, command.arg)
            return self._fit(incoming.key.platform, await self._retried(incoming))
        except StoreError as exc:
            log.warning("store error for user %s: %s", incoming.key.hashed(), type(exc).__name__)
            self.report(incoming.key.platform,
                        "store_unavailable" if isinstance(exc, StoreUnavailable) else "store")
            lang = detect_lang(incoming.lang_hint, self.locales.langs, self.default_lang)
            return [Reply(kind="error", text=self.text(lang, "errors.unavailable"))]

    def _answered_in_place(self, incoming: Incoming, command: Command | None) -> bool:
        """Whether a command in a shared chat is answered there: one that never opens a
        check, where only the person sees the answer, or (whoami) an admin asks."""
        if command is None or not command.spec.in_place:
            return False
        key = incoming.key
        return self.can(key.platform).whispers or (
            command.spec.admins_in_shared and is_admin(self.admins, key.platform, key.user))

    async def _retried(self, incoming: Incoming) -> list[Reply]:
        """One engine turn, tried again when another turn changed the session meanwhile."""
        for _ in range(RETRIES):
            try:
                return await self._turn(incoming)
            except VersionConflict:
                continue
        raise StoreError("too many concurrent updates for one conversation")

    def _fit(self, platform: str, replies: list[Reply]) -> list[Reply]:
        """Offer a check-in only where the bot can write to the person days later."""
        if self.can(platform).can_follow_up:
            return replies
        return [replace(r, buttons=tuple(b for b in r.buttons if b.value != "followup"))
                for r in replies]

    async def _redirect(self, incoming: Incoming) -> Reply:
        """Never a health question in a shared chat: point to a private one. A platform
        that opens the private chat itself says it has; the others offer a button."""
        lang = await self.language(incoming.key, incoming.lang_hint)
        if self.can(incoming.key.platform).opens_private_chat:
            return Reply("redirect", self.text(lang, "shared.moved"))
        button = Button("command", "start", self.text(lang, "shared.button"))
        return Reply("redirect", self.text(lang, "shared.redirect"), (button,))

    async def _turn(self, incoming: Incoming) -> list[Reply]:
        key = incoming.key
        notices: list[Reply] = []
        rec, state = await self._load(incoming, notices)
        anonymous = self.can(key.platform).anonymous
        # An anonymous visitor who only looks (opens the page) is stored at their first
        # answer, or when they type: typed text must find question 1 stored as shown.
        looking = anonymous and (incoming.kind == "start" or (
            incoming.kind == "command" and incoming.value == "current"))
        if state is None:
            lang = await self.language(key, incoming.lang_hint)
            state = State.new(self.flow, lang, _nonce(key) if anonymous else
                              secrets.token_urlsafe(6))
            if incoming.token != state.token:  # not typed under the question 1 it answers
                incoming = _unseen(incoming)
        before = state
        after, replies = step(self.flow, state, incoming, self.words_for(key.platform),
                              self.region, self.wellness.followup_days)
        count = after is not None and after.done and not before.done and not after.counted
        if count and after is not None:
            after = replace(after, counted=True)  # a restart or a step back counts no more
        version = 0 if rec is None else rec.version
        if after is None:
            if rec is not None:
                await self._drop(key, version)
        elif after != before or (rec is None and not looking
                                 and any(r.token for r in replies)):
            await self.store.put(
                SESSION, key.id(), after.to_dict(), version=version,
                ttl=self.session_ttl, person=key.person(),
            )
        if after is not None and after.lang != before.lang:
            await self._save_lang(key, after.lang)
        if count and after is not None:
            await stats.record_completion(self.store, level_of(self.flow, after.answers),
                                          self.clock(), self.wellness.stats_weeks)
        for observer in self.observers:
            observer.turned(incoming, before if rec is not None else None, after)
        return notices + replies

    async def _load(self, incoming: Incoming,
                    notices: list[Reply]) -> tuple[Record | None, State | None]:
        """The stored session and its state; a record that cannot be read is dropped, with
        a notice for the person (in `notices`), and the check starts afresh."""
        key = incoming.key
        try:
            rec = await self.store.get(SESSION, key.id())
        except CorruptRecord:
            lang = await self.language(key, incoming.lang_hint)
            notices.append(Reply(kind="message", text=self.text(lang, "errors.corrupt")))
            return None, None
        if rec is None:
            return None, None
        try:
            return rec, State.from_dict(rec.data, self.flow)
        except ValueError:
            log.warning("unreadable session for user %s dropped", key.hashed())
            await self._drop(key, rec.version)
            lang = await self.language(key, incoming.lang_hint)
            notices.append(Reply(kind="message", text=self.text(lang, "errors.corrupt")))
            return None, None

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

    async def _app_command(self, incoming: Incoming, command: Command) -> list[Reply]:
        """forget, follow-ups and totals: the App's own commands (the rest are the engine's)."""
        if command.name == "forget":
            return await self._forget(incoming)
        lang = await self.language(incoming.key, incoming.lang_hint)
        if command.name == "followup":
            return await followup.opt_in(self, incoming, lang)
        if command.name == "checkin":
            how = command.arg if command.arg in followup.HOW else "same"
            return followup.answer(self, lang, how)
        admin = is_admin(self.admins, incoming.key.platform, incoming.key.user)
        if command.name == "whoami":
            return [Reply(kind="message", text=self._whoami(incoming.key, lang, admin))]
        if not admin:
            return [Reply(kind="message", text=self.text(lang, "stats.refused"))]
        table = await stats.totals(self.store)
        return [Reply(kind="message", text=stats.render(table, self.locales.translator(
            lang, self.region), self.flow.levels))]

    def _whoami(self, key: SessionKey, lang: str, admin: bool) -> str:
        """The ids an operator needs, in the forms the settings and `backcheck forget`
        take: the person's own (never secret to them) for everyone; the chat's, for tip
        targets, only for admins. Nothing about health, nothing from the store."""
        lines = [self.text(lang, "whoami.intro"),
                 self.text(lang, "whoami.person", person=f"{key.platform}:{key.user}"),
                 self.text(lang, "whoami.forget", forget=dsr.user_spec(key))]
        if admin:
            lines += [self.text(lang, "whoami.chat", chat=f"{key.platform}:{key.chat}"),
                      self.text(lang, "whoami.admin")]
        else:
            lines.append(self.text(lang, "whoami.not_admin"))
        return "\n".join(lines)

    async def _forget(self, incoming: Incoming) -> list[Reply]:
        lang = await self.language(incoming.key, incoming.lang_hint)
        await self.store.forget(incoming.key.person())
        log.info("forgot user %s", incoming.key.hashed())
        said = self.words_for(incoming.key.platform).translator(lang, self.region)
        return [Reply(kind="message", text=said.t("commands.forgotten"))]


def _nonce(key: SessionKey) -> str:
    """The stale-button nonce of a conversation that is not stored yet (an anonymous
    visitor's question 1): the same on every replica and after a restart, so their first
    answer is accepted though nothing was stored when the question was shown. It names
    question 1 only (turn 0): a button from any later question is stale."""
    return hashlib.sha256(f"nonce:{key.id()}".encode()).hexdigest()[:8]


def _unseen(incoming: Incoming) -> Incoming:
    """With no check open, the person has not seen any question: what they typed (or a
    request for where the check stands) starts a check and shows question 1, and never
    answers it. A "no" typed after `forget` or after the check expired must not silently
    deny the first warning sign, nor a "yes" call an ambulance. (Buttons cannot answer
    either: a fresh check's token is new, so an old button is stale.)"""
    if incoming.kind == "text" or (incoming.kind == "command" and incoming.value == "current"):
        return replace(incoming, kind="start", value="", token=None)
    return incoming


def _wrapped(middleware: Middleware, inner: Turn) -> Turn:
    async def turn(incoming: Incoming) -> list[Reply]:
        return await middleware(incoming, inner)

    return turn
