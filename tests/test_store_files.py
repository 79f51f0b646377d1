"""What the store's files hold, read byte by byte: `forget` and `keys rotate` reach the
SQLite file, its write-ahead log and Redis's append-only file; a damaged SQLite file is
reported, not served; a wrong key is said out loud; the SQLite path means what it says."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from redis_server import RedisServer
from support import make_app

from bot import ops
from bot.app import App
from bot.cli import main
from bot.errors import ConfigError
from bot.keys import Keyring, Unsealable
from bot.stores import SealedStore, open_store, sqlite_file
from bot.stores.base import SESSION, Store
from bot.stores.sealed import CANARY, KEYCHECK
from bot.types import Incoming, Reply, SessionKey

BOT_ID, USER_ID = "7000000001", "123456789"
TOKEN = f"{BOT_ID}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ALICE = SessionKey("telegram", BOT_ID, USER_ID, USER_ID)
BOB = SessionKey("telegram", BOT_ID, "555000111", "555000111")
OLD = "Zm9yLXRlc3RzLW9ubHktZG8tbm90LXVzZS1hbnl3aGU="  # conftest's BACKCHECK_SECRET_KEY
NEW = "bmV3LWtleS1mb3ItdGVzdHMtb25seS1ub3QtcmVhbCE="
FERNET = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")


def sealed(inner: Store, *secret: str) -> SealedStore:
    return SealedStore(inner, Keyring.from_text(",".join(secret or (OLD,))))


async def say(app: App, key: SessionKey, kind: str = "start", value: str = "",
              token: str | None = None) -> list[Reply]:
    return await app.handle(Incoming(key, kind, value, token=token))  # type: ignore[arg-type]


async def answer_some(app: App, key: SessionKey, n: int) -> Reply:
    replies = await say(app, key)
    for _ in range(n):
        replies = await say(app, key, "answer", "no", replies[-1].token)
    return replies[-1]


def files_of(place: Path) -> bytes:
    """Every byte of a SQLite file with its -wal and -shm, or of a directory's files."""
    paths = sorted(place.rglob("*") if place.is_dir() else place.parent.glob(place.name + "*"))
    return b"".join(p.read_bytes() for p in paths if p.is_file())


def opened_by(raw: bytes, secret: str) -> Iterator[dict[str, object]]:
    """What each Fernet token in `raw` holds, for those that `secret` alone opens."""
    ring = Keyring.from_text(secret)
    for token in FERNET.findall(raw):
        try:
            yield ring.open(token.decode())
        except Unsealable:
            continue


def people_in(raw: bytes, secret: str = OLD) -> set[object]:
    """The people whose sealed records in `raw` the key opens (by their real person key)."""
    return {env.get("p") for env in opened_by(raw, secret) if env.get("n") == SESSION}


# -- forget and rotate reach the files ----------------------------------------------------------


@pytest.fixture
def aof_redis() -> Iterator[RedisServer]:
    """A redis-server as compose runs it (appendonly yes, no RDB snapshots), with the
    append-only file's base in plain commands so that its bytes can be searched."""
    server = RedisServer(options=["--aof-use-rdb-preamble", "no"])
    server.start()
    yield server
    server.cleanup()


def where(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path]:
    """The store URL and the place whose files it writes."""
    if backend == "sqlite":
        path = tmp_path / "s.sqlite3"
        return f"sqlite://{path}", path
    server: RedisServer = request.getfixturevalue("aof_redis")
    return server.url, server.dir / "appendonlydir"


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_a_person_who_typed_forget_is_gone_from_the_files_of_the_running_store(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url, place = where(backend, tmp_path, request)
    store = sealed(open_store(url))
    app = make_app(store)
    await answer_some(app, ALICE, 3)
    await answer_some(app, BOB, 2)
    if backend == "redis":
        await store.inner.compact()  # a rewrite before: Alice's writes are in its base too
        await answer_some(app, ALICE, 1)  # and some after, in the newer file
    assert people_in(files_of(place)) == {ALICE.person(), BOB.person()}  # they are found
    replies = await say(app, ALICE, "command", "forget")
    assert replies[0].text == app.text("en", "commands.forgotten")
    # Read while the store is still open, as a copy of a running server's files would be.
    assert people_in(files_of(place)) == {BOB.person()}
    await store.close()
    assert people_in(files_of(place)) == {BOB.person()}


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_after_keys_rotate_nothing_in_the_files_opens_with_the_retired_key(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url, place = where(backend, tmp_path, request)
    old = sealed(open_store(url), OLD)
    await answer_some(make_app(old), ALICE, 3)
    await answer_some(make_app(old), BOB, 2)
    await old.close()
    assert len(list(opened_by(files_of(place), OLD))) >= 2
    rotating = sealed(open_store(url), NEW, OLD)
    counts = await rotating.rotate()
    assert counts["rotated"] >= 2 and counts["unreadable"] == 0
    assert list(opened_by(files_of(place), OLD)) == []  # read while it is open ...
    await rotating.close()
    raw = files_of(place)
    assert list(opened_by(raw, OLD)) == []  # ... and after
    assert people_in(raw, NEW) == {ALICE.person(), BOB.person()}  # all there, under the new key
    after = sealed(open_store(url), NEW)
    replies = await say(make_app(after), ALICE, "command", "help")
    await after.close()
    assert replies[-1].progress is not None and replies[-1].progress[0] == 4


def test_compose_runs_redis_so_that_deleted_data_can_leave_its_files() -> None:
    compose = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text())
    command = " ".join(compose["services"]["redis"]["command"])
    assert "--appendonly yes" in command and "--save  " in command + " "
    assert "rdb-preamble" not in command  # the default: a rewrite leaves one compact file


# -- the SQLite path means what an operator reads -------------------------------------------------


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///var/lib/backcheck/sessions.sqlite3", "/var/lib/backcheck/sessions.sqlite3"),
    ("sqlite:////var/lib/backcheck/sessions.sqlite3", "/var/lib/backcheck/sessions.sqlite3"),
    ("sqlite:./data/s.sqlite3", "{cwd}/data/s.sqlite3"),
    ("sqlite:../s.sqlite3", "{parent}/s.sqlite3"),
])
def test_a_sqlite_url_names_the_file_an_operator_reads_in_it(url: str, path: str) -> None:
    cwd = Path.cwd()
    assert sqlite_file(url) == Path(path.format(cwd=cwd, parent=cwd.parent))


@pytest.mark.parametrize("url", ["sqlite://var/lib/s.sqlite3", "sqlite:s.sqlite3", "sqlite:///",
                                 "sqlite:", "sqlite:./"])
def test_an_ambiguous_sqlite_url_is_refused_naming_the_variable(
        url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKCHECK_STORE", url)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert "BACKCHECK_STORE" in err and "sqlite:///absolute/path" in err
    assert "sqlite:./relative/path" in err
    with pytest.raises(ConfigError, match="BACKCHECK_STORE"):
        open_store(url)


def test_forget_from_another_directory_finds_the_file_and_says_which(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The documented form, `sqlite:///var/lib/…`, is the absolute path wherever the operator
    runs `backcheck` from; forget, export and config print the file."""
    path = tmp_path / "var" / "lib" / "sessions.sqlite3"
    url = f"sqlite://{path}"  # sqlite:///tmp/…/var/lib/sessions.sqlite3: three slashes
    assert url.startswith("sqlite:///") and not url.startswith("sqlite:////")
    monkeypatch.setenv("BACKCHECK_STORE", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    store = sealed(open_store(url))
    import asyncio

    async def alice_half_way() -> None:
        await answer_some(make_app(store), ALICE, 2)
        await store.close()

    asyncio.run(alice_half_way())
    monkeypatch.chdir(elsewhere)
    assert main(["config"]) == 0
    assert f"# store: the SQLite file {path}\n" in capsys.readouterr().out
    assert main(["export", "--user", f"telegram:{USER_ID}"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["store"] == f"the SQLite file {path}" and exported["records"]["session"]
    assert main(["forget", "--user", f"telegram:{USER_ID}"]) == 0
    assert f"1 records deleted from the SQLite file {path}" in capsys.readouterr().out
    assert main(["forget", "--user", f"telegram:{USER_ID}"]) == 0
    out = capsys.readouterr().out
    assert f"nothing stored about telegram:{USER_ID} in the SQLite file {path}" in out
    assert list(elsewhere.iterdir()) == []  # no stray empty store made here


# -- a damaged SQLite file ------------------------------------------------------------------------


async def filled(path: Path, people: int = 60) -> None:
    store = sealed(open_store(f"sqlite://{path}"))
    app = make_app(store)
    for n in range(people):
        await answer_some(app, SessionKey("telegram", BOT_ID, str(1000 + n), str(1000 + n)), 2)
    await store.close()


def damage(path: Path, pages: int = 3, seed: int = 7) -> None:
    """Overwrite `pages` random pages (not the header page) with random bytes."""
    rng = random.Random(seed)
    size = 4096
    count = path.stat().st_size // size
    assert count > pages + 1
    with path.open("r+b") as f:
        for page in rng.sample(range(1, count), pages):
            f.seek(page * size)
            f.write(rng.randbytes(size))


@pytest.mark.parametrize("when", ["at rest", "while running"])
async def test_a_corrupt_sqlite_file_is_unhealthy_logged_by_name_and_people_get_the_kind_reply(
        when: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.sqlite3"
    await filled(path)
    store = sealed(open_store(f"sqlite://{path}"))
    app = make_app(store)
    if when == "while running":
        assert await ops.healthz(app) == (200, {"status": "ok"})
    damage(path)
    with caplog.at_level(logging.WARNING):
        status, body = await ops.healthz(app)
        replies = await say(app, ALICE)
        again = await say(app, BOB)
    assert (status, body) == (503, {"status": "unavailable", "store": "StoreCorrupt"})
    assert [r.text for r in replies] == [app.text("en", "errors.unavailable")]
    assert [r.text for r in again] == [app.text("en", "errors.unavailable")]
    named = [r for r in caplog.records if "corrupt" in r.getMessage() and str(path) in
             r.getMessage()]
    assert len(named) == 1 and named[0].levelno == logging.ERROR  # once, not per request
    assert "restore" in named[0].getMessage()
    await store.close()


async def test_a_file_that_is_no_database_at_all_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    await filled(path, people=2)
    path.write_bytes(os.urandom(path.stat().st_size))
    store = sealed(open_store(f"sqlite://{path}"))
    assert await ops.healthz(make_app(store)) == (
        503, {"status": "unavailable", "store": "StoreCorrupt"})
    await store.close()


# -- a wrong key --------------------------------------------------------------------------------


async def test_a_wrong_key_is_logged_once_and_healthz_says_503(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite://{tmp_path / 's.sqlite3'}"
    right = sealed(open_store(url), OLD)
    await answer_some(make_app(right), ALICE, 3)
    assert await ops.healthz(make_app(right)) == (200, {"status": "ok"})
    await right.close()
    wrong = sealed(open_store(url), NEW)
    app = make_app(wrong)
    with caplog.at_level(logging.WARNING):
        await answer_some(app, ALICE, 1)
        await answer_some(app, BOB, 1)
        status, body = await ops.healthz(app)
    assert (status, body) == (503, {"status": "unavailable", "store": "WrongKey"})
    said = [r.getMessage() for r in caplog.records if "BACKCHECK_SECRET_KEY" in r.getMessage()]
    assert len(said) == 1 and "Was the key changed?" in said[0]
    await wrong.close()
    # The right key again: healthy, and Alice's check is where she left it.
    right = sealed(open_store(url), OLD)
    app = make_app(right)
    assert await ops.healthz(app) == (200, {"status": "ok"})
    replies = await say(app, ALICE, "command", "help")
    assert replies[-1].progress is not None and replies[-1].progress[0] == 4
    await right.close()


async def test_a_store_from_before_the_key_check_tells_a_wrong_key_by_its_records(
        tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    right = sealed(open_store(f"sqlite://{path}"), OLD)
    await answer_some(make_app(right), ALICE, 3)
    await right.close()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM records WHERE ns = ? AND key = ?", (KEYCHECK, CANARY))
    db.close()
    wrong = sealed(open_store(f"sqlite://{path}"), NEW)
    assert await ops.healthz(make_app(wrong)) == (
        503, {"status": "unavailable", "store": "WrongKey"})
    right = sealed(open_store(f"sqlite://{path}"), OLD)
    assert await ops.healthz(make_app(right)) == (200, {"status": "ok"})
    assert await right.inner.get(KEYCHECK, CANARY) is not None  # and now it has one
    for store in (wrong, right):
        await store.close()


def test_keys_rotate_forget_and_export_with_a_wrong_key_exit_2_and_change_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    path = tmp_path / "s.sqlite3"
    url = f"sqlite://{path}"

    async def alice_half_way() -> None:
        store = sealed(open_store(url), OLD)
        await answer_some(make_app(store), ALICE, 3)
        await store.close()

    asyncio.run(alice_half_way())
    before = files_of(path)
    monkeypatch.setenv("BACKCHECK_STORE", url)
    monkeypatch.setenv("BACKCHECK_SECRET_KEY", NEW)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["keys", "rotate"]) == 2
    err = capsys.readouterr().err
    assert "BACKCHECK_SECRET_KEY does not open the records in this store" in err
    assert err[-1] == "\n" and err.count("\n") == 1
    assert people_in(files_of(path)) == people_in(before) == {ALICE.person()}
    for command in ("forget", "export"):  # would find nobody: said, not "0 records"
        assert main([command, "--user", f"telegram:{USER_ID}"]) == 2
        assert "does not open the records" in capsys.readouterr().err
    monkeypatch.setenv("BACKCHECK_SECRET_KEY", f"{NEW},{OLD}")
    assert main(["keys", "rotate"]) == 0
    assert "re-encrypted" in capsys.readouterr().out
