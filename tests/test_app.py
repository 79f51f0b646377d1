"""The App never crashes and never loses an answer: store failures, corrupt records,
concurrent presses of one button."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.errors import StoreUnavailable
from bot.stores import MemoryStore
from bot.stores.base import SESSION, Record
from bot.types import Incoming, SessionKey
from tests.support import make_app

KEY = SessionKey("test", "w", "c", "u")


class FlakyStore(MemoryStore):
    """A memory store that can be switched off, like a Redis that went away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def get(self, ns: str, key: str) -> Record | None:
        if self.down:
            raise StoreUnavailable("connection refused")
        return await super().get(ns, key)

    async def put(self, ns: str, key: str, data: dict[str, Any], **kw: Any) -> int:
        if self.down:
            raise StoreUnavailable("connection refused")
        return await super().put(ns, key, data, **kw)


async def test_store_down_gets_a_kind_reply_in_the_persons_language_and_recovers() -> None:
    store = FlakyStore()
    app = make_app(store)
    first = await app.handle(Incoming(KEY, "start", lang_hint="sv-SE"))
    store.down = True
    down = await app.handle(Incoming(KEY, "answer", "no", first[-1].token, lang_hint="sv-SE"))
    assert [(r.kind, r.text) for r in down] == [
        ("error", "Förlåt, jag kommer inte åt mitt minne just nu. Försök igen om en minut – "
                  "dina svar hittills finns kvar.")]
    store.down = False
    again = await app.handle(Incoming(KEY, "answer", "no", first[-1].token, lang_hint="sv-SE"))
    assert [r.kind for r in again] == ["answered", "question"]
    assert again[-1].node == "severe_weakness"


async def test_a_corrupt_session_starts_over_with_a_notice() -> None:
    store = MemoryStore()
    app = make_app(store)
    await store.put(SESSION, KEY.id(), {"node": "gone_node", "answers": [], "lang": "en",
                                        "nonce": "x", "turn": 0, "done": False},
                    version=0, person=KEY.person())
    replies = await app.handle(Incoming(KEY, "text", "hello"))
    assert replies[0].text == "Sorry, I couldn't read your saved check, so we'll start over."
    assert replies[-1].node == "cold_pale_foot"
    record = await store.get(SESSION, KEY.id())
    assert record is not None and record.data["node"] == "cold_pale_foot"


async def test_two_presses_of_one_button_at_once_apply_exactly_once() -> None:
    app = make_app()
    first = await app.handle(Incoming(KEY, "start"))
    press = Incoming(KEY, "answer", "no", first[-1].token)
    results = await asyncio.gather(*(app.handle(press) for _ in range(10)))
    kinds = sorted(r[0].kind for r in results)
    assert kinds == ["answered"] + ["stale"] * 9
    record = await app.store.get(SESSION, KEY.id())
    assert record is not None and record.data["answers"] == [["cold_pale_foot", "no"]]


async def test_a_stored_check_resumes_with_a_new_app_on_the_same_store() -> None:
    store = MemoryStore()
    first = await make_app(store).handle(Incoming(KEY, "start"))
    await make_app(store).handle(Incoming(KEY, "answer", "no", first[-1].token))
    resumed = await make_app(store).handle(Incoming(KEY, "start"))
    assert resumed[-1].text.startswith("Welcome back")
    assert resumed[-1].node == "severe_weakness"


async def test_sessions_expire_after_the_ttl() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    app = make_app(store, BACKCHECK_SESSION_TTL="60")
    await app.handle(Incoming(KEY, "start"))
    now[0] += 61
    assert await store.get(SESSION, KEY.id()) is None


async def test_choosing_a_language_outside_a_check_is_remembered_without_starting_one() -> None:
    app = make_app()
    chosen = await app.handle(Incoming(KEY, "command", "language sv"))
    assert [(r.kind, r.text) for r in chosen] == [("message", "Nu pratar vi svenska.")]
    assert await app.store.get(SESSION, KEY.id()) is None
    started = await app.handle(Incoming(KEY, "start", lang_hint="en-GB"))
    assert "Fråga 1 av ungefär" in started[-1].text


async def test_the_home_view_is_the_apps_in_the_persons_language() -> None:
    """What a platform's home shows (Slack's App Home) is decided by the App: start, a
    button per language, each named in its own language, and what is stored."""
    app = make_app()
    key = SessionKey("slack", "T1", "D1", "U1")
    home = await app.home(key, "sv-SE", notice="slack.home_started")
    assert home.start.value == "start" and home.start.label == "Starta kollen"
    assert [(b.value, b.label) for b in home.languages] == [("language en", "English"),
                                                           ("language sv", "Svenska")]
    assert home.privacy.startswith("Det här sparar jag")
    assert "112" in home.intro and home.notice.startswith("Jag har skickat")


async def test_a_typed_message_delivered_twice_is_applied_once() -> None:
    """Telegram redelivers what a bot had not acknowledged when it was killed: the same
    "no" must not go on to answer the next warning-sign question, which nobody saw."""
    app = make_app()
    first = await app.handle(Incoming(KEY, "start"))
    said = Incoming(KEY, "text", "no", message="1001")
    await app.handle(said)
    again = await app.handle(said)
    record = await app.store.get(SESSION, KEY.id())
    assert record is not None and record.data["answers"] == [[first[-1].node, "no"]]
    assert again[-1].node == record.data["node"], "shows the open question, answers nothing"


async def test_a_first_message_delivered_twice_still_answers_nothing() -> None:
    app = make_app()
    said = Incoming(KEY, "text", "yes", message="77")
    shown = await app.handle(said)
    await app.handle(said)
    record = await app.store.get(SESSION, KEY.id())
    assert record is not None and record.data["answers"] == []
    assert shown[-1].node == record.data["node"] == "cold_pale_foot"
