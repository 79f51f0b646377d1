"""Simulated people for a bot that runs in another process, and the bot process itself.

The people see only what the stand-in Bot API (tests/telegram_stub.py) shows them, as a
real person sees only their chat, so the bot can be a `backcheck telegram` subprocess
(killed, restarted, two replicas) and the harness needs no hook inside it. Used by the
fault and load tests and by the benchmarks in bench/.

`WatchedStub` is `BotApiStub` that also wakes whoever waits on a chat when the bot
writes to it. `Person` walks through a check by pressing buttons or typing and waits
for each reply. When the reply does not come, or says "try again", or "already
answered", they look where the check stands (/help shows the open question and changes
nothing; "?" would not: it means "not sure") and answer again only if that question is
still open: what a careful person does. `given` is what they answered and saw
accepted; the bot must end with exactly those answers and show the level they call for.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from telegram_stub import BotApiStub, Shown, User

from bot.engine import triage
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import Locales, load_locales
from bot.stores.base import SESSION, Store
from bot.types import SessionKey

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
BOT_ID = 7000000001
SECRET = "load-test-secret_1"
# BACKCHECK_SECRET_KEY of every bot the tests and benchmarks start (the bots need one).
SECRET_KEY = "Zm9yLXRlc3RzLW9ubHktZG8tbm90LXVzZS1hbnl3aGU="
ROOT = Path(__file__).resolve().parent.parent
LOOK = "/help"  # shows the open question (or the finished menu) and changes nothing

JSON = dict[str, Any]
Choose = Callable[[str, list[str]], str]


# -- what the bot wrote, as the person sees it ------------------------------------------


@dataclass(frozen=True)
class Note:
    """A message the bot sent to a chat, or a toast it showed for a button press."""

    kind: str  # "message" or "toast"
    text: str
    data: tuple[str, ...] = ()  # callback_data of the message's buttons
    labels: tuple[str, ...] = ()  # and their labels
    message_id: int = 0
    query: str = ""


class WatchedStub(BotApiStub):
    """The stand-in Bot API, keeping per chat what the bot wrote and waking waiters."""

    def __init__(self, token: str = TOKEN, **kwargs: Any) -> None:
        super().__init__(token, bot_id=BOT_ID, **kwargs)
        self.notes: defaultdict[int, list[Note]] = defaultdict(list)
        self.query_chat: dict[str, int] = {}
        self._wakes: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def _sendmessage(self, p: JSON) -> JSON:
        result = await super()._sendmessage(p)
        rows = (p.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row if "callback_data" in b]
        data = tuple(b["callback_data"] for b in buttons)
        labels = tuple(b["text"] for b in buttons)
        note = Note("message", str(p.get("text", "")), data, labels, result["message_id"])
        self._note(int(p["chat_id"]), note)
        return result

    async def _answercallbackquery(self, p: JSON) -> bool:
        answered = await super()._answercallbackquery(p)
        query = str(p["callback_query_id"])
        chat = self.query_chat.get(query)
        if chat is not None:
            self._note(chat, Note("toast", str(p.get("text") or ""), query=query))
        return answered

    def _note(self, chat: int, note: Note) -> None:
        self.notes[chat].append(note)
        self._wakes[chat].set()

    def calls_since(self, start: int, method: str) -> int:
        return sum(1 for c in self.calls[start:] if c.method == method)

    async def wait_note(self, chat: int, start: int, accept: Callable[[Note], bool],
                        timeout: float) -> Note | None:
        """The first note at or after index `start` that `accept`s, or None on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        notes, wake, i = self.notes[chat], self._wakes[chat], start
        while True:
            wake.clear()
            for note in notes[i:]:
                if accept(note):
                    return note
            i = len(notes)
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(wake.wait(), left)
            except TimeoutError:
                return None


class Reader:
    """Reads the bot's English messages back into question ids, levels and errors."""

    def __init__(self, flow: Flow, locales: Locales, region: str = "SE") -> None:
        tr = locales.translator("en", region)
        self.flow = flow
        by_length = lambda pair: -len(pair[0])  # noqa: E731 - the longest text wins
        self.questions = sorted(((tr.t(n.text), n.id) for n in flow.nodes.values()
                                 if n.kind != "outcome"), key=by_length)
        self.headlines = sorted(((tr.t(f"level.{lv}.headline"), lv) for lv in flow.levels),
                                key=by_length)
        self.errors = {tr.t("errors.unavailable")}

    def question(self, text: str) -> str | None:
        return next((qid for words, qid in self.questions if words in text), None)

    def level(self, text: str) -> str | None:
        return next((lv for words, lv in self.headlines if words in text), None)


def shipped_reader() -> Reader:
    locales = load_locales(LOCALES_DIR)
    return Reader(load_flow(DEFAULT_FLOW, locales), locales)


def turn_of(note: Note) -> int:
    """The turn in the token of a message's buttons ("a|<nonce>.<turn>|no"); -1 if none."""
    token = note.data[0].split("|")[1] if note.data else ""
    return int(token.rsplit(".", 1)[1]) if "." in token else -1


def answered_by(note: Note) -> bool:
    """A note that settles a press or a message: a message with buttons or an error."""
    return note.kind == "message" and bool(note.data)


# -- a person ---------------------------------------------------------------------------


Deliver = Callable[[JSON], Awaitable[bool]]


class Person(User):
    """One person in a private chat, outside the bot's process."""

    def __init__(self, stub: WatchedStub, user_id: int, reader: Reader, *,
                 rng: random.Random | None = None, typed: float = 0.0,
                 deliver: Deliver | None = None, timeout: float = 10.0) -> None:
        super().__init__(stub, user_id)
        self.watched, self.reader = stub, reader
        self.rng = rng or random.Random(user_id)
        self.typed, self.post, self.timeout = typed, deliver, timeout
        self.given: list[tuple[str, str]] = []
        self.levels: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.trace: list[str] = []  # what they did and saw, for a failing test's message

    @property
    def key(self) -> SessionKey:
        chat = str(self.chat["id"])
        return SessionKey("telegram", str(BOT_ID), chat, str(self.id))

    async def push(self, update: JSON) -> Note | None:  # type: ignore[override]
        """Deliver one update and wait for the note that settles it (None: no reply)."""
        return await self.deliver_and_wait(update, self._settles)

    async def deliver_and_wait(self, update: JSON, accept: Callable[[str, Note], bool]
                               ) -> Note | None:
        chat = int(self.chat["id"])
        query = update.get("callback_query", {}).get("id", "")
        if query:
            self.watched.query_chat[query] = chat
        start = len(self.watched.notes[chat])
        self.stats["updates"] += 1
        if self.post is None:
            self.watched.push(update)
        elif not await self.post(self.watched.stamp(update)):
            self.stats["undelivered"] += 1
            return None
        note = await self.watched.wait_note(chat, start, lambda n: accept(query, n),
                                            self.timeout)
        self.stats["no_reply" if note is None else "replies"] += 1
        body = update.get("message") or update.get("callback_query") or {}
        seen = "-" if note is None else f"{note.kind}:{note.text[:60]!r}"
        self.trace.append(f"{body.get('text') or body.get('data')!r} -> {seen}")
        return note

    def _settles(self, query: str, note: Note) -> bool:
        if note.kind == "toast":
            return bool(query) and note.query == query and bool(note.text)
        return bool(note.data) or note.text in self.reader.errors

    # -- what the chat shows -------------------------------------------------------------

    def keyboard(self) -> Note | None:
        """The newest message with buttons."""
        return next((n for n in reversed(self.watched.notes[int(self.chat["id"])])
                     if n.kind == "message" and n.data), None)

    def shown(self, note: Note) -> Shown:
        return self.watched.shown[(int(self.chat["id"]), note.message_id)]

    @staticmethod
    def asks(note: Note) -> bool:
        """A question: after an emergency sign its banner shows the level so far, which a
        later answer (trouble breathing) can still raise, so only results are read."""
        return any(d.startswith("a|") for d in note.data)

    @staticmethod
    def finished(note: Note) -> bool:
        return all(d.startswith("c|") for d in note.data)

    # -- a check -------------------------------------------------------------------------

    async def check(self, choose: Choose, *, max_questions: int = 60) -> None:
        """Start a check and answer until its result shows; remember what was shown."""
        await self.until_settled(lambda: self.send("/start"))
        for _ in range(max_questions):
            note = self.keyboard()
            assert note is not None
            if self.finished(note):
                break
            qid = self.reader.question(note.text)
            assert qid is not None, note.text
            # the answers only: "Show my result now" (c|…|result) is a command, not an answer
            options = [d.split("|")[2] for d in note.data if d.startswith("a|")]
            await self.answer(qid, choose(qid, options), note)
        await self.read_level()

    async def answer(self, qid: str, option: str, note: Note) -> None:
        """Answer `qid` with `option` until the bot has it, exactly once.

        Whether the bot moved on is read from the turn in the buttons' token (it rises
        with every change), never from which question a reply shows: a slow bot's late
        reply to an earlier message can show an older question. By button or by typing,
        decided once per question, as people do."""
        base = turn_of(note)
        typed = self.rng.random() < self.typed
        for attempt in range(30):
            if attempt:
                self.stats["retries"] += 1
                await asyncio.sleep(min(0.1 * attempt, 1.0))
            reply = await (self.say(note, option) if typed else self.press(
                data=f"a|{note.data[0].split('|')[1]}|{option}", on=self.shown(note)))
            if reply is not None and reply.kind == "message" and reply.data:
                if turn_of(reply) > base:
                    self.given.append((qid, option))
                    return
                if not typed and turn_of(reply) == base:
                    self.stats["reprompts"] += 1  # the same question again: press again
                    note = reply
                    continue
            elif reply is not None and reply.text in self.reader.errors:
                self.stats["errors"] += 1
                if not typed:
                    continue  # the same button again: the bot applies it at most once
            self.stats["stale" if reply is not None and reply.kind == "toast" else "looks"] += 1
            now = await self.look(base)
            if turn_of(now) > base:
                self.given.append((qid, option))  # it did go through
                return
            note = now
        raise AssertionError(f"user {self.id}: {qid} never accepted")

    async def say(self, note: Note, option: str) -> Note | None:
        """Type the answer: its button's label, or its number."""
        index = [d.split("|")[2] for d in note.data].index(option)
        typed = note.labels[index] if self.rng.random() < 0.5 else str(index + 1)
        return await self.send(typed)

    async def look(self, base: int = -1) -> Note:
        """Where the check stands: /help answers with the open question or the finished
        menu. A typed answer is only typed again once the bot has shown the open question
        after everything sent before (so, after that /help): replies from before are
        skipped by their turn, and the bot handles one chat's messages in order."""
        for _ in range(20):
            note = await self.until_settled(lambda: self.send(LOOK))
            if turn_of(note) >= base:
                return note
            self.stats["late_replies"] += 1
        raise AssertionError(f"user {self.id}: never saw the open question again")

    async def until_settled(self, act: Callable[[], Awaitable[Note | None]]) -> Note:
        """Do `act` until the bot answers it with buttons (retrying errors and silence)."""
        for attempt in range(60):
            if attempt:
                await asyncio.sleep(min(0.1 * attempt, 1.0))
            note = await act()
            if note is not None and note.kind == "message" and note.data:
                return note
            self.stats["retries"] += 1
        raise AssertionError(f"user {self.id}: the bot never answered")

    async def read_level(self) -> None:
        """The level the bot showed: from the outcome, else from the doctor's summary."""
        notes = self.watched.notes[int(self.chat["id"])]
        self.levels = {lv for n in notes if not self.asks(n)
                       and (lv := self.reader.level(n.text)) is not None}
        if self.levels:
            return
        self.stats["summary"] += 1
        menu = self.keyboard()
        assert menu is not None
        summary = [d for d in menu.data if d.endswith("|summary")][0]
        await self.until_settled(lambda: self.press(data=summary, on=self.shown(menu)))
        notes = self.watched.notes[int(self.chat["id"])]
        self.levels = {lv for n in notes if not self.asks(n)
                       and (lv := self.reader.level(n.text)) is not None}


def mostly_no(rng: random.Random, red_flag_yes: float = 0.03, other_yes: float = 0.3) -> Choose:
    """A person who rarely has a red flag and answers the rest at random."""

    def choose(qid: str, options: list[str]) -> str:
        red = qid in RED_FLAGS
        if "no" in options and rng.random() > (red_flag_yes if red else other_yes):
            return "no"
        return rng.choice(options)

    return choose


RED_FLAGS = ("cold_pale_foot", "severe_weakness", "bladder_bowel", "saddle_numbness",
             "both_legs", "weakness_worsening", "major_injury")


async def lost(people: Sequence[Person], store: Store, flow: Flow) -> list[str]:
    """Every way the bot's record of someone differs from what they answered and saw:
    must be empty."""
    problems: list[str] = []
    for person in people:
        record = await store.get(SESSION, person.key.id())
        expected = triage.level_of(flow, person.given)
        if record is None:
            problems.append(f"{person.id}: no session")
            continue
        stored = [(q, a) for q, a in record.data["answers"]]
        if stored != person.given:
            problems.append(f"{person.id}: stored {stored} != given {person.given}")
        if not record.data["done"]:
            problems.append(f"{person.id}: check not finished")
        if person.levels != {expected}:
            problems.append(f"{person.id}: shown {person.levels}, answers call for {expected}")
    return problems


# -- the bot as a process ---------------------------------------------------------------


@dataclass
class BotProcess:
    """A `backcheck telegram` (or other) subprocess and its log file."""

    proc: asyncio.subprocess.Process
    log: Path
    ready_seconds: float
    port: int = 0
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no last getUpdates, like a crash or an OOM kill."""
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait for a clean exit; the exit code."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.kill()
            return -9


def bot_env(stub: BotApiStub, store: str, **extra: str) -> dict[str, str]:
    """The environment of a `backcheck telegram` talking to `stub` with this store."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_"))}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=stub.base_url,
               BACKCHECK_STORE=store, BACKCHECK_LOG_LEVEL="WARNING",
               BACKCHECK_ENV_FILE=os.devnull, BACKCHECK_SECRET_KEY=SECRET_KEY, **extra)
    return env


async def spawn(stub: WatchedStub, env: dict[str, str], log: Path, *,
                argv: Sequence[str] = ("-m", "bot.cli", "telegram"), ready: str = "getUpdates",
                timeout: float = 60.0) -> BotProcess:
    """Start the bot and return once it calls `ready` on the stub (polling: getUpdates;
    webhook: setWebhook): the time from spawn to that call is its start-up time."""
    start = len(stub.calls)
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *argv, env=env, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=out, stderr=out)
    while stub.calls_since(start, ready) == 0:
        if proc.returncode is not None or time.perf_counter() - started > timeout:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            raise RuntimeError(f"bot did not get ready: {log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.005)
    return BotProcess(proc, log, time.perf_counter() - started)


def webhook_deliverer(http: aiohttp.ClientSession, urls: Sequence[str]) -> Deliver:
    """Deliver updates by webhook POST, round-robin over the replicas, as a load balancer
    in front of them would; a refused connection is retried briefly (a replica starting)."""
    turn = itertools.cycle(urls)

    async def deliver(update: JSON) -> bool:
        url = next(turn)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for attempt in range(50):
            try:
                async with http.post(url, json=update, headers=headers) as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05 * (attempt + 1))
        return False

    return deliver
