"""The workplace's own places of care (BACKCHECK_CARE_FILE): shown under "Where to go" in
the results of the levels they name, in the person's language, on every platform; never
at emergency or ambulance; a bad file stops the bot with the file and the line; the file
is part of the signed content version, the review pack and `backcheck review --diff`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support import pick
from telegram_stub import BotApiStub, User, track

from bot.adapters.telegram.serve import build_application, start, stop
from bot.adapters.web.serve import WebChat
from bot.adapters.web.serve import start as start_web
from bot.adapters.web.settings import WebSettings
from bot.app import App
from bot.cli import main
from bot.compose import build_app
from bot.config import Settings
from bot.engine.loader import ROOT
from bot.errors import ConfigError, FlowError
from bot.ops import bound_port
from bot.review import diff
from bot.review.cli import HAZARDS, write_pack
from bot.review.content import gather
from bot.review.version import Content, check_signed, short, version_of
from bot.stores.memory import MemoryStore

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
PREVIA = {"en": "Occupational health (Previa)", "sv": "Företagshälsovården (Previa)"}
CARE = """\
care:
  - name: {en: "Occupational health (Previa)", sv: "Företagshälsovården (Previa)"}
    phone: "+46 10 123 45 67"
    url: "https://example.org/boka"
    hours: {en: "Weekdays 8–17", sv: "Vardagar 8–17"}
    levels: [urgent, appointment, self_care]
"""
APPOINTMENT = {"duration": "over_6_weeks"}  # no to the rest: tingling for over six weeks
EMERGENCY = {"bladder_bowel": "yes"}


@pytest.fixture
def care_file(tmp_path: Path) -> Path:
    path = tmp_path / "care.yaml"
    path.write_text(CARE, encoding="utf-8")
    return path


def settings_with(care: Path) -> Settings:
    return Settings.from_env({"BACKCHECK_STORE": "memory://", "BACKCHECK_CARE_FILE": str(care)})


# -- the terminal ------------------------------------------------------------------------


def chat_result(care: Path, lang: str, answers: dict[str, str]) -> dict[str, Any]:
    """Answer a whole check in `backcheck chat --json` and return the outcome it printed."""
    env = {**os.environ, "BACKCHECK_STORE": "memory://", "BACKCHECK_CARE_FILE": str(care)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "chat", "--json", "--lang", lang],
                            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for _ in range(60):
            shown = json.loads(proc.stdout.readline())
            if shown["type"] == "outcome":
                return dict(shown)
            if shown["type"] == "question":
                ids = [o["id"] for o in shown["options"]]
                wanted = pick(shown["id"], answers)
                proc.stdin.write(json.dumps({"answer": wanted if wanted in ids else ids[0]})
                                 + "\n")
                proc.stdin.flush()
        raise AssertionError("the check never ended")
    finally:
        proc.kill()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_an_appointment_result_in_the_terminal_shows_the_workplace_place(
        care_file: Path, lang: str) -> None:
    result = chat_result(care_file, lang, APPOINTMENT)
    assert result["level"] == "appointment"
    title = {"en": "Where to go", "sv": "Vart du kan vända dig"}[lang]
    where = result["text"].split(title, 1)
    assert len(where) == 2, result["text"]
    place = where[1].splitlines()[1]
    assert place.startswith(f"• {PREVIA[lang]}")
    assert "+46 10 123 45 67" in place and "https://example.org/boka" in place
    assert {"en": "Weekdays 8–17", "sv": "Vardagar 8–17"}[lang] in place
    assert PREVIA["sv" if lang == "en" else "en"] not in result["text"]


def test_an_emergency_result_shows_no_workplace_place(care_file: Path) -> None:
    result = chat_result(care_file, "en", EMERGENCY)
    assert result["level"] in ("emergency", "ambulance")
    assert "Previa" not in result["text"] and "Where to go" not in result["text"]
    assert "112" in result["text"]


# -- the web API and Telegram --------------------------------------------------------------


async def test_the_web_api_result_shows_the_place(care_file: Path) -> None:
    chat = WebChat(build_app(settings_with(care_file), MemoryStore()),
                   WebSettings(origins=(), session_rate=1000))
    runner = await start_web(chat, "127.0.0.1", 0)
    port = bound_port(runner)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"http://127.0.0.1:{port}/api/state",
                                headers={"Accept-Language": "sv"}) as resp:
                last = (await resp.json())["messages"][-1]
            for _ in range(60):
                if last["type"] == "outcome":
                    break
                ids = [b["id"] for b in last["buttons"]]
                wanted = pick(last["id"], APPOINTMENT)
                async with http.post(f"http://127.0.0.1:{port}/api/turn", json={
                        "answer": wanted if wanted in ids else ids[0], "token": last["token"],
                        "lang": "sv"}) as resp:
                    assert resp.status == 200
                    last = [m for m in (await resp.json())["messages"] if m.get("buttons")][-1]
    finally:
        await runner.cleanup()
    assert last["level"] == "appointment"
    assert PREVIA["sv"] in json.dumps(last, ensure_ascii=False)


@pytest.fixture
async def telegram(tg_stub: BotApiStub, care_file: Path) -> AsyncIterator[App]:
    app = build_app(settings_with(care_file), MemoryStore())
    application = build_application(app, TOKEN, tg_stub.base_url, max_retries=3, polling=True)
    track(application, tg_stub)
    await start(application, None, poll_timeout=1)
    yield app
    await stop(application)


async def test_a_telegram_result_shows_the_place(tg_stub: BotApiStub, telegram: App) -> None:
    user = User(tg_stub, 2001)
    await user.send("/start")
    for _ in range(60):
        message = user.last_keyboard()
        data = [b["callback_data"] for b in message.buttons()]
        ids = [d.split("|")[2] for d in data]
        if "summary" in ids:
            break
        qid = next(qid for qid in telegram.flow.nodes
                   if telegram.text("en", f"q.{qid}.text") in message.text)
        wanted = pick(qid, APPOINTMENT)
        await user.press(data=data[ids.index(wanted if wanted in ids else ids[0])], on=message)
    shown = "\n".join(user.texts())
    assert telegram.text("en", "level.appointment.headline") in shown
    assert f"• {PREVIA['en']} – phone +46 10 123 45 67" in shown


# -- a bad file ------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "line", "says"), [
    (("levels: [urgent, appointment, self_care]", "levels: [urgent, soon]"), 6,
     "unknown level 'soon'"),
    (("levels: [urgent, appointment, self_care]", "levels: [emergency, urgent]"), 6,
     "level 'emergency' is not allowed"),
    (('sv: "Företagshälsovården (Previa)"', 'de: "Betriebsarzt"'), 2, "name has no 'sv' text"),
    (("https://example.org/boka", "http://example.org/boka"), 4, "is not an https:// address"),
    (('    phone: "+46', '    fax: "+46 10 1"\n    phone: "+46'), 3, "unknown key 'fax'"),
])
def test_a_bad_care_file_is_refused_naming_the_file_and_line(
        tmp_path: Path, change: tuple[str, str], line: int, says: str) -> None:
    bad = tmp_path / "care.yaml"
    bad.write_text(CARE.replace(*change), encoding="utf-8")
    with pytest.raises(FlowError) as raised:
        Content.at(ROOT, care=bad).load()
    assert f"{bad}:{line}" in str(raised.value) and says in str(raised.value)


def test_a_bad_care_file_stops_the_bot_at_start_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "care.yaml"
    bad.write_text(CARE.replace("https://", "http://"), encoding="utf-8")
    env = {**os.environ, "BACKCHECK_STORE": "memory://", "BACKCHECK_CARE_FILE": str(bad),
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "telegram"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert f"{bad}:4" in done.stderr and "https://" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(ConfigError, match="BACKCHECK_CARE_FILE"):
        Settings.from_env({"BACKCHECK_CARE_FILE": str(tmp_path / "missing.yaml")})


# -- signed, reviewed, diffed ------------------------------------------------------------


def test_the_care_file_is_part_of_the_signed_version(care_file: Path) -> None:
    without = version_of(Content.at(ROOT))
    with_care = version_of(Content.at(ROOT, care=care_file))
    assert with_care != without
    check_signed(settings_with(care_file).replace(signed_version=with_care))
    with pytest.raises(ConfigError, match="has not been signed off"):
        check_signed(settings_with(care_file).replace(signed_version=without))
    care_file.write_text(CARE.replace("8–17", "8–16"), encoding="utf-8")
    with pytest.raises(ConfigError, match="has not been signed off"):
        check_signed(settings_with(care_file).replace(signed_version=with_care))


def test_the_review_pack_shows_the_places_and_the_diff_lists_their_changes(
        care_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = gather(Content.at(ROOT, care=care_file), HAZARDS)
    page = write_pack(review, tmp_path / "pack")[0].read_text(encoding="utf-8")
    assert "The workplace&#x27;s own places of care" in page
    assert PREVIA["sv"] in page and "https://example.org/boka" in page
    old = tmp_path / "old"
    old.mkdir()
    (old / "care.yaml").write_text(CARE, encoding="utf-8")
    for part in ("flows", "locales"):
        (old / part).symlink_to(ROOT / part)
    care_file.write_text(CARE.replace("+46 10 123 45 67", "+46 10 765 43 21"), encoding="utf-8")
    with diff.old_content(str(old), ROOT, "back_pain.yaml", care_file) as before:
        found = diff.compare(before, Content.at(ROOT, care=care_file))
    (change,) = found.groups["Places of care"]
    assert (change.kind, change.item) == ("reworded", f"place {PREVIA['en']}")
    assert "phone +46 10 123 45 67" in change.old and "phone +46 10 765 43 21" in change.new
    assert main(["review", "--diff", str(old), "--care", str(care_file)]) in (0, 1)
    out = capsys.readouterr().out
    assert f"reworded  place {PREVIA['en']}" in out
    assert short(version_of(Content.at(ROOT, care=care_file))) in out
