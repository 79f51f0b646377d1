"""Privacy at rest: what a store file or a Redis dump shows after real checks (nothing a
person said, no user id), key rotation, tampered records, the operator's forget/export,
retention, and the bots' refusal to run without a key."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from support import make_app, pick, shipped

from bot import keys
from bot.app import App
from bot.cli import main
from bot.errors import ConfigError
from bot.keys import Keyring
from bot.stores import SealedStore, open_store
from bot.stores.base import FOLLOWUP, SESSION, STATS, Store
from bot.stores.memory import MemoryStore
from bot.types import Incoming, Reply, SessionKey
from bot.wellness import stats

ROOT = Path(__file__).resolve().parent.parent
BOT_ID, USER_ID = "7000000001", "123456789"
TOKEN = f"{BOT_ID}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ALICE = SessionKey("telegram", BOT_ID, USER_ID, USER_ID)
BOB = SessionKey("telegram", BOT_ID, "555000111", "555000111")
OLD, NEW = keys.new_key(), keys.new_key()


def sealed(inner: Store, *secret: str) -> SealedStore:
    return SealedStore(inner, Keyring.from_text(",".join(secret or (OLD,))))


async def say(app: App, key: SessionKey, kind: str = "start", value: str = "",
              token: str | None = None) -> list[Reply]:
    return await app.handle(Incoming(key, kind, value, token=token))  # type: ignore[arg-type]


async def answer_until_outcome(app: App, key: SessionKey, limit: int = 60) -> Reply:
    """Answer "no" (or the tests' default answer) to whatever the flow asks, to the outcome."""
    flow, _ = shipped()
    replies = await say(app, key)
    for _ in range(limit):
        last = replies[-1]
        if last.kind == "outcome" or last.outcome is not None:
            return last
        node = flow.nodes[last.node or ""]
        ids = [o.id for o in node.options]
        choice = pick(node.id, {}) if pick(node.id, {}) in ids else ids[0]
        replies = await say(app, key, "answer", choice, last.token)
    raise AssertionError("no outcome")


async def answer_some(app: App, key: SessionKey, n: int) -> Reply:
    replies = await say(app, key)
    for _ in range(n):
        replies = await say(app, key, "answer", "no", replies[-1].token)
    return replies[-1]


def secrets_in_clear() -> list[str]:
    """Every question id and option id of the shipped flow, and the user ids: none may
    appear in what the store keeps. Short option ids are looked for as JSON strings."""
    flow, _ = shipped()
    words = {USER_ID, "555000111", "user-tester"}
    for node in flow.nodes.values():
        if node.options:
            words.add(node.id)
            words.update(f'"{o.id}"' for o in node.options)
    return sorted(words)


def sqlite_bytes(path: Path) -> str:
    found = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return found.decode("latin-1")


def redis_dump(url: str) -> str:
    parts: list[str] = []
    with redis.Redis.from_url(url, decode_responses=True) as client:
        for key in client.scan_iter("*"):
            parts.append(key)
            kind = client.type(key)
            if kind == "hash":
                parts += [f"{k}={v}" for k, v in client.hgetall(key).items()]
            elif kind == "set":
                parts += list(client.smembers(key))
            else:
                parts.append(str(client.get(key)))
    return "\n".join(parts)


# -- nothing in clear -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_the_store_holds_no_answer_question_or_user_id_in_clear(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = tmp_path / "s.sqlite3"
    url = f"sqlite:///{path}" if backend == "sqlite" else request.getfixturevalue("redis_url")
    store = sealed(open_store(url))
    app = make_app(store)
    outcome = await answer_until_outcome(app, ALICE)
    assert outcome.outcome is not None
    await say(app, ALICE, "command", "followup")  # a check-in, if the level offers one
    await say(app, ALICE, "command", "language sv")
    await answer_some(app, BOB, 3)  # and one check left half-way
    await store.close()
    dump = sqlite_bytes(path) if backend == "sqlite" else redis_dump(url)
    assert "gAAAAA" in dump  # Fernet tokens are there ...
    leaked = [w for w in secrets_in_clear() if w in dump]
    assert leaked == []  # ... and nothing else a person said or is


async def test_log_ids_are_keyed_pseudonyms_not_a_hash_anyone_can_compute() -> None:
    ring = Keyring.from_text(OLD)
    keys.install_log_pseudonyms(ring)
    unkeyed = hashlib.sha256(ALICE.person().encode()).hexdigest()[:12]
    assert ALICE.hashed() != unkeyed
    logged = ALICE.hashed()
    assert logged == ALICE.hashed()  # stable: one person's lines can be followed
    # no prefix of the store's person column: the log alone links to no row
    assert logged not in ring.pseudonym(ALICE.person())
    keys.install_log_pseudonyms(Keyring.from_text(NEW))
    assert ALICE.hashed() != logged


# -- keys: rotation, the wrong key, tampering -------------------------------------------------


async def test_rotation_keeps_a_check_half_way_readable_before_and_after_rotate(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    before = await answer_some(make_app(sealed(open_store(url), OLD)), ALICE, 3)
    assert before.progress is not None and before.progress[0] == 4
    # The new key first, the old one still listed: the check carries on where it was.
    app = make_app(sealed(open_store(url), NEW, OLD))
    replies = await say(app, ALICE, "command", "help")
    assert replies[-1].node == before.node and replies[-1].progress == before.progress
    counts = await sealed(open_store(url), NEW, OLD).rotate()
    assert counts["rotated"] >= 1 and counts["unreadable"] == 0
    # After `keys rotate` the old key can go.
    app = make_app(sealed(open_store(url), NEW))
    replies = await say(app, ALICE, "command", "help")
    assert replies[-1].node == before.node and replies[-1].progress == before.progress


async def test_a_wrong_key_starts_afresh_and_wipes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    await answer_some(make_app(sealed(open_store(url), OLD)), ALICE, 3)
    wrong = sealed(open_store(url), NEW)
    replies = await say(make_app(wrong), ALICE)
    assert replies[-1].progress is not None and replies[-1].progress[0] == 1
    # Only the new, empty check is readable to this key; the old one is left alone.
    assert [rec.data["answers"] for _, rec in await wrong.scan(SESSION)] == [[]]
    replies = await say(make_app(sealed(open_store(url), OLD)), ALICE, "command", "help")
    assert replies[-1].progress is not None and replies[-1].progress[0] == 4


@pytest.mark.parametrize("how", ["flipped", "swapped"])
async def test_a_tampered_record_gets_the_kind_reply_and_the_log_names_only_its_id(
        how: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.sqlite3"
    store = sealed(open_store(f"sqlite:///{path}"))
    app = make_app(store)
    await answer_some(app, ALICE, 3)
    await answer_some(app, BOB, 1)
    await store.close()
    name = store.keyring.pseudonym(ALICE.id())
    with sqlite3.connect(path) as db:
        if how == "flipped":
            (data,) = db.execute("SELECT data FROM records WHERE key = ?", (name,)).fetchone()
            token = json.loads(data)["s"]
            bad = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
            db.execute("UPDATE records SET data = ? WHERE key = ?",
                       (json.dumps({"s": bad}), name))
        else:  # Bob's sealed check copied over Alice's: it is not hers, and does not open
            db.execute("UPDATE records SET data = (SELECT data FROM records WHERE key = ?) "
                       "WHERE key = ?", (store.keyring.pseudonym(BOB.id()), name))
    with caplog.at_level(logging.WARNING):
        replies = await say(app, ALICE, "command", "help")
    texts = [r.text for r in replies]
    assert texts[0] == app.text("en", "errors.corrupt")
    assert replies[-1].progress is not None and replies[-1].progress[0] == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert name[:12] in logged and USER_ID not in logged
    assert not [w for w in secrets_in_clear() if w.strip('"') in logged.split()]


# -- forget and export, as the operator runs them ---------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    return str(request.getfixturevalue("redis_url"))


async def two_people(store: Store) -> None:
    """Alice finished a check, chose Swedish and booked a check-in; Bob is half-way."""
    app = make_app(store)
    await answer_until_outcome(app, ALICE)
    await say(app, ALICE, "command", "language sv")
    await store.put(FOLLOWUP, ALICE.id(), {"due": 1.0, "user": ALICE.user}, version=0,
                    person=ALICE.person())
    await answer_some(app, BOB, 2)
    await store.close()


def test_export_and_forget_by_platform_user_id(
        store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKCHECK_STORE", store_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    asyncio.run(two_people(sealed(open_store(store_url), os.environ["BACKCHECK_SECRET_KEY"])))

    assert main(["export", "--user", f"telegram:{USER_ID}"]) == 0
    exported = json.loads(capsys.readouterr().out)
    records = exported["records"]
    assert set(records) == {"session", "prefs", "followup"}
    session = records["session"][ALICE.id()]
    assert session["done"] and session["answers"]
    assert records["prefs"][ALICE.person()] == {"lang": "sv"}

    assert main(["forget", "--user", f"telegram:{BOT_ID}:{USER_ID}"]) == 0
    assert "3 records deleted" in capsys.readouterr().out
    assert main(["export", "--user", f"telegram:{USER_ID}"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == {}
    assert main(["export", "--user", "telegram:555000111"]) == 0  # Bob is untouched
    assert "session" in json.loads(capsys.readouterr().out)["records"]


def test_a_user_spec_maps_to_the_key_each_adapter_builds(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.config import Settings
    from bot.dsr import person_of

    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert person_of(f"telegram:{USER_ID}", settings) == ALICE.person()
    assert person_of("slack:T0123:U0456", settings) == SessionKey(
        "slack", "T0123", "D0789", "U0456").person()
    assert person_of("console:root", settings) == SessionKey(
        "console", "local", "terminal", "user-root").person()
    browser = "b" * 43 + "." + "c" * 22  # a web session id, as the cookie holds it
    assert person_of(f"web:{browser}", settings) == SessionKey(
        "web", "web", browser, browser).person()
    with pytest.raises(ConfigError, match="web:<session id>"):
        person_of("web:not-a-session", settings)
    assert main(["forget", "--user", "whatsapp:1"]) == 2
    assert "expected <platform>:<id>, as console:<login name>, telegram:<user id>" in (
        capsys.readouterr().err)


# -- keys: the bots need one, the terminal makes its own --------------------------------------


@pytest.mark.parametrize("command", [["telegram"], ["slack"], ["web", "--port", "1"]])
def test_the_bots_refuse_to_start_without_a_key(
        command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BACKCHECK_SECRET_KEY")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-3")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cr3t")
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "BACKCHECK_SECRET_KEY" in err and "backcheck keys new" in err


def test_keys_new_prints_a_working_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    key = capsys.readouterr().out.strip()
    ring = Keyring.from_text(key)
    assert ring.open(ring.seal({"a": 1})) == {"a": 1}


def test_chat_needs_no_setup_and_makes_a_private_key_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_"))}
    env.update(XDG_DATA_HOME=str(tmp_path), BACKCHECK_ENV_FILE=os.devnull)
    run = [sys.executable, "-m", "bot.cli", "chat"]
    first = subprocess.run(run, input="no\n", env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0 and "Question 2 of about" in first.stdout, first.stderr
    key_file = tmp_path / "backcheck" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = subprocess.run(run, input="", env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert "Question 2 of about" in again.stdout  # the same key reads it back
    dump = sqlite_bytes(tmp_path / "backcheck" / "sessions.sqlite3")
    assert shipped()[0].start not in dump and "user-" not in dump


# -- retention --------------------------------------------------------------------------------


async def test_weekly_totals_older_than_the_limit_are_deleted() -> None:
    store = MemoryStore()
    week = 7 * 86400.0
    start = 1_800_000_000.0
    for n in range(6):
        await stats.record_completion(store, "self_care", start + n * week, keep_weeks=3)
    weeks = sorted(k.partition(":")[0] for k, _ in await store.scan(STATS))
    assert weeks == [stats.week_of(start + n * week) for n in (2, 3, 4, 5)]


async def test_a_sent_followup_record_is_deleted() -> None:
    from bot.wellness import followup

    app = make_app(sealed(MemoryStore()), BACKCHECK_FOLLOWUP_DAYS="1")
    await app.store.put(FOLLOWUP, ALICE.id(), {
        "due": 0.0, "lang": "en", "platform": "telegram", "workspace": BOT_ID,
        "chat": USER_ID, "user": USER_ID}, version=0, person=ALICE.person())
    claimed = await followup.claim_due(app, {"telegram"})
    assert [k for k, _ in claimed] == [ALICE]
    await followup.done(app, ALICE)
    assert await app.store.scan(FOLLOWUP) == []
