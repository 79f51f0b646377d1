"""The web chat without a browser: the pure translation in and out (inbound, render),
the settings, and the JSON API over real HTTP on 127.0.0.1 — errors, limits, headers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import make_app, pick

from bot import httpsafe
from bot.adapters.web import inbound, render
from bot.adapters.web.limits import Buckets
from bot.adapters.web.serve import COOKIE, HEADER, WebChat, page_csp, start
from bot.adapters.web.settings import WebSettings
from bot.adapters.web.transport import SessionIds
from bot.cli import main
from bot.config import Settings, describe
from bot.errors import ConfigError
from bot.ops import bound_port, metrics_of
from bot.stores import open_store
from bot.stores.base import SESSION, Record
from bot.stores.memory import MemoryStore
from bot.types import Button, Incoming, Outcome, Reply
from bot.wellness import stats

KEY = inbound.session_key("s" * 43)
ALLOWED = "http://127.0.0.1:1"
JSON = dict[str, Any]


# -- inbound: a request body -> Incoming ------------------------------------------------


def test_a_button_a_command_and_typed_text_become_turns() -> None:
    assert inbound.parse_turn(b'{"answer": "no", "token": "abc.1"}', KEY, "sv") == Incoming(
        KEY, "answer", "no", "abc.1", "sv")
    assert inbound.parse_turn(b'{"command": "language sv"}', KEY, None) == Incoming(
        KEY, "command", "language sv")
    assert inbound.parse_turn(b'{"command": "start"}', KEY, "en") == Incoming(
        KEY, "start", lang_hint="en")
    typed = inbound.parse_turn(b'{"text": "nej <b>"}', KEY, None)
    assert typed == Incoming(KEY, "text", "nej <b>")


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    (b"[1, 2]", "bad_json"),
    (b"{}", "bad_request"),
    (b'{"text": 5}', "bad_request"),
    (b'{"answer": "<script>"}', "forged"),
    (b'{"answer": "no", "token": "a|b"}', "forged"),
    (b'{"command": "stats"}', "forged"),
    (b'{"command": "followup"}', "forged"),
    (b'{"command": "language xx yy"}', "forged"),
    (b'{"command": 7}', "forged"),
])
def test_what_cannot_be_a_turn_is_rejected_with_a_code(body: bytes, code: str) -> None:
    assert inbound.parse_turn(body, KEY, None) == inbound.Rejected(code)


def test_language_from_the_page_else_the_browser_by_preference() -> None:
    langs = ("en", "sv")
    assert inbound.lang_hint("sv", "en-GB", langs) == "sv"
    assert inbound.lang_hint(None, "de-DE,sv;q=0.8,en;q=0.5", langs) == "sv"
    assert inbound.lang_hint(None, "en;q=0.2, sv-SE", langs) == "sv"
    assert inbound.lang_hint("de", "de", langs) is None
    assert inbound.lang_hint(None, "sv;q=0", langs) is None


def test_only_ids_the_server_issued_are_sessions() -> None:
    ids, other = SessionIds.random(), SessionIds.random()
    issued = ids.issue()
    assert ids.issued(issued) and inbound.valid_session(issued)
    assert not other.issued(issued), "another key never issued it"
    random, _, mac = issued.partition(".")
    assert not ids.issued(f"{random}.{'A' * 22}")
    assert not ids.issued("A" * 43), "the old unsigned shape is not an id"
    assert not ids.issued("../../etc/passwd") and not ids.issued(None)
    rotated = SessionIds([b"new key", b"old key"])
    assert rotated.issued(SessionIds([b"old key"]).issue()), "any configured key verifies"


# -- render: Reply -> JSON ----------------------------------------------------------------


def test_a_question_carries_option_ids_progress_and_no_progress_in_its_text() -> None:
    reply = Reply("question", "Hello\n\nQuestion 2 of about 9\n\nDoes it hurt?",
                  (Button("answer", "yes", "Yes"), Button("answer", "no", "No")),
                  node="q1", progress=(2, 9), token="t.1", prompt="Does it hurt?",
                  lead="Hello")
    shown = render.question(reply)
    assert shown == {"type": "question", "id": "q1", "lead": "Hello", "progress": [2, 9],
                     "progress_text": "Question 2 of about 9", "text": "Does it hurt?",
                     "token": "t.1", "buttons": [
                         {"kind": "answer", "id": "yes", "label": "Yes"},
                         {"kind": "answer", "id": "no", "label": "No"}], "level": None}


def test_an_outcome_has_its_headline_apart_and_no_follow_up_button() -> None:
    reply = Reply("outcome", "…", (Button("command", "summary", "Summary"),
                                   Button("command", "followup", "Check in")),
                  token="t.2", sections=("🚑 Call 112 now\n\nDo it.", "Why\n• Cold foot: Yes"),
                  outcome=Outcome("ambulance", (), ("cold_pale_foot",)))
    shown = render.outcome(reply)
    assert shown["icon"] == "🚑" and shown["headline"] == "Call 112 now"
    assert shown["advice"] == "Do it." and shown["sections"] == ["Why\n• Cold foot: Yes"]
    assert shown["level"] == "ambulance" and shown["why"] == ["cold_pale_foot"]
    assert [b["id"] for b in shown["buttons"]] == ["summary"]


def test_the_summary_command_marks_its_text_and_answered_replies_are_not_shown() -> None:
    replies = [Reply("message", "Summary for my doctor …"),
               Reply("answered", "Q\n✓ No"),
               Reply("message", "menu", (Button("command", "restart", "Again"),), token="t")]
    kinds = [m["type"] for m in render.messages(replies, command="summary")]
    assert kinds == ["summary", "message"]
    assert [m["type"] for m in render.messages(replies)] == ["message", "message"]


def test_a_resumed_check_shows_only_where_it_stands_headed_by_welcome_back() -> None:
    question = Reply("question", "Oops\n\nQuestion 3 of about 9\n\nQ?",
                     (Button("answer", "no", "No"),), node="q", progress=(3, 9),
                     token="t", prompt="Q?", lead="Oops")
    [shown] = render.resumed([question], "Welcome back")
    assert shown.lead == "Welcome back" and shown.text.startswith("Welcome back\n\nQuestion 3")
    result = Reply("outcome", "r", (Button("command", "restart", "Again"),), token="t")
    assert render.resumed([Reply("message", "Oops"), result], "Welcome back") == [result]


# -- settings ------------------------------------------------------------------------------


def test_web_settings_are_checked_by_name() -> None:
    s = WebSettings.from_env({"BACKCHECK_WEB_ORIGINS": "https://A.example.org/, http://x:8000",
                              "BACKCHECK_WEB_SECURE_COOKIE": "yes",
                              "BACKCHECK_WEB_SESSION_RATE": "12"})
    assert s.origins == ("https://a.example.org", "http://x:8000")
    assert s.secure_cookie == "true" and s.session_rate == 12 and s.max_body == 8192
    for name, value in [("BACKCHECK_WEB_ORIGINS", "https://a.example.org/page"),
                        ("BACKCHECK_WEB_ORIGINS", "a.example.org"),
                        ("BACKCHECK_WEB_SECURE_COOKIE", "sometimes"),
                        ("BACKCHECK_WEB_SESSION_RATE", "-3"),
                        ("BACKCHECK_WEB_MAX_BODY", "lots")]:
        with pytest.raises(ConfigError, match=name):
            WebSettings.from_env({name: value})


def test_a_wrong_web_setting_stops_backcheck_web_with_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKCHECK_WEB_ORIGINS", "not an origin")
    assert main(["web", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backcheck: BACKCHECK_WEB_ORIGINS") and err.count("\n") == 1


def test_backcheck_config_shows_the_web_settings() -> None:
    env = {"BACKCHECK_WEB_ORIGINS": "https://a.example.org", "BACKCHECK_WEB_TRUST_PROXY": "yes"}
    lines = describe(Settings.from_env(env), env)
    assert "BACKCHECK_WEB_ORIGINS=https://a.example.org  # environment" in lines
    assert "BACKCHECK_WEB_TRUST_PROXY=true  # environment" in lines
    assert "BACKCHECK_WEB_SECURE_COOKIE=auto  # default" in lines
    assert "BACKCHECK_WEB_MAX_BODY=8192  # default" in lines
    assert WebSettings.of(Settings.from_env(env)) == WebSettings(
        origins=("https://a.example.org",), trust_proxy=True)


def test_buckets_allow_a_minute_of_requests_then_refill() -> None:
    now = [0.0]
    buckets = Buckets(3, clock=lambda: now[0])
    assert [buckets.allow("k") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("other")
    now[0] += 20.0  # a third of a minute: one more
    assert buckets.allow("k") and not buckets.allow("k")


# -- the API over HTTP ---------------------------------------------------------------------


class Api:
    """A browser's worth of HTTP: a cookie jar, the page's language, the last buttons."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base, self.http = base, http
        self.last: JSON = {}

    async def get(self, path: str, **kw: Any) -> tuple[int, JSON]:
        async with self.http.get(self.base + path, **kw) as resp:
            return resp.status, await resp.json()

    async def post(self, body: bytes | JSON, **kw: Any) -> tuple[int, JSON]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        async with self.http.post(self.base + "/api/turn", data=data, headers=headers,
                                  **kw) as resp:
            out = await resp.json()
        if isinstance(out.get("messages"), list):
            with_buttons = [m for m in out["messages"] if m.get("buttons")]
            self.last = with_buttons[-1] if with_buttons else self.last
        return resp.status, out

    async def answer(self, option: str | None = None) -> tuple[int, JSON]:
        """Press `option`, or what the scripted patient answers (support.pick)."""
        option = option or pick(self.last["id"], {})
        return await self.post({"answer": option, "token": self.last["token"], "lang": "en"})


@pytest.fixture
async def served() -> AsyncIterator[tuple[WebChat, str]]:
    chat = WebChat(make_app(), WebSettings(origins=(ALLOWED,), session_rate=1000,
                                           max_body=2048))
    runner = await start(chat, "127.0.0.1", 0)
    yield chat, f"http://127.0.0.1:{bound_port(runner)}"
    await runner.cleanup()


@pytest.fixture
async def api(served: tuple[WebChat, str]) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = Api(served[1], http)
        status, body = await client.get("/api/state")
        assert status == 200
        client.last = body["messages"][-1]
        yield client


async def test_a_new_visitor_gets_a_private_cookie_the_intro_and_the_first_question(
        served: tuple[WebChat, str]) -> None:
    async with aiohttp.ClientSession() as http, http.get(
            served[1] + "/api/state", headers={"Accept-Language": "sv-SE,sv;q=0.9"}) as resp:
        body = await resp.json()
        cookie = resp.headers["Set-Cookie"]
    assert COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert body["lang"] == "sv" and body["ui"]["send"] == "Skicka"
    [question] = body["messages"]
    assert question["type"] == "question" and question["lead"] and question["progress"][0] == 1
    assert {b["id"] for b in question["buttons"]} >= {"yes", "no"}


async def test_behind_https_the_cookie_is_secure(served: tuple[WebChat, str]) -> None:
    async with aiohttp.ClientSession() as http, http.get(
            served[1] + "/api/state", headers={"X-Forwarded-Proto": "https"}) as resp:
        assert "Secure" in resp.headers["Set-Cookie"]


async def test_a_whole_check_over_the_api_ends_in_self_care_and_forget_deletes_it(
        api: Api, served: tuple[WebChat, str]) -> None:
    for _ in range(60):
        if api.last["type"] == "outcome":
            break
        ids = [b["id"] for b in api.last["buttons"]]
        wanted = pick(api.last["id"], {})
        status, _ = await api.answer(wanted if wanted in ids else ids[0])
        assert status == 200
    assert api.last["level"] == "self_care"
    status, summary = await api.post({"command": "summary", "token": api.last["token"]})
    assert summary["messages"][0]["type"] == "summary"
    status, forgotten = await api.post({"command": "forget"})
    assert status == 200 and forgotten["messages"][0]["type"] == "message"
    assert COOKIE not in {c.key for c in api.http.cookie_jar}
    _, fresh = await api.get("/api/state")
    assert fresh["messages"][0]["progress"][0] == 1 and fresh["messages"][0]["lead"]


async def test_the_cookie_slides_with_the_check_so_an_active_person_keeps_it() -> None:
    """The stored check lives BACKCHECK_SESSION_TTL after its last answer; the cookie is
    set again with that lifetime on every turn, so it never expires first."""
    import asyncio

    ttl = 2.0
    app = make_app(BACKCHECK_SESSION_TTL=str(ttl))
    runner = await start(WebChat(app, session_ttl=ttl), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            client = Api(f"http://127.0.0.1:{bound_port(runner)}", http)
            _, body = await client.get("/api/state")
            client.last = body["messages"][-1]
            for expected in (2, 3):  # each answer within the TTL of the one before,
                await asyncio.sleep(ttl * 0.6)  # together past the first cookie's lifetime
                status, body = await client.answer()
                assert status == 200, body
                assert client.last["progress"][0] == expected
    finally:
        await runner.cleanup()


async def test_a_reload_and_a_restarted_bot_resume_the_check(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    ids = SessionIds([b"the same BACKCHECK_SECRET_KEY"])  # what the restarted bot reads again

    async def serve_once(cookies: aiohttp.CookieJar, steps: int) -> JSON:
        app = make_app(open_store(store_url))
        runner = await start(WebChat(app, ids=ids), "127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession(cookie_jar=cookies) as http:
                client = Api(f"http://127.0.0.1:{bound_port(runner)}", http)
                _, body = await client.get("/api/state")
                client.last = body["messages"][-1]
                for _ in range(steps):
                    await client.answer()
                return client.last
        finally:
            await runner.cleanup()
            await app.store.close()

    jar = aiohttp.CookieJar(unsafe=True)
    before = await serve_once(jar, 2)
    after = await serve_once(jar, 0)
    assert after["id"] == before["id"] and after["progress"] == before["progress"]
    assert after["lead"]  # "Welcome back"


@pytest.mark.parametrize(("body", "code", "status"), [
    (b"{oops", "bad_json", 400),
    (b'{"answer": "no; drop table"}', "forged", 400),
    (b'{"command": "stats"}', "forged", 400),
    (b'{"nothing": 1}', "bad_request", 400),
])
async def test_bad_requests_get_a_clear_error_and_lose_nothing(
        api: Api, body: bytes, code: str, status: int) -> None:
    first = api.last
    got_status, error = await api.post(body)
    assert (got_status, error["error"]) == (status, code) and error["message"]
    _, state = await api.get("/api/state")
    assert state["messages"][-1]["id"] == first["id"]
    await api.answer()
    assert api.last["progress"][0] == 2


async def test_a_forged_option_id_is_refused_and_the_question_stays(api: Api) -> None:
    status, body = await api.post({"answer": "maybe_later", "token": api.last["token"]})
    assert status == 200
    assert [m["type"] for m in body["messages"]] == ["error", "question"]
    assert body["messages"][1]["progress"][0] == 1


async def test_an_unknown_session_is_a_clear_error(served: tuple[WebChat, str]) -> None:
    async with aiohttp.ClientSession() as http:
        client = Api(served[1], http)
        status, body = await client.post({"answer": "no"}, headers={HEADER: "made-up"})
        assert (status, body["error"]) == (404, "unknown_session")
        status, body = await client.post({"answer": "no"})  # no session at all
        assert (status, body["error"]) == (404, "unknown_session")


async def test_the_widget_holds_its_session_in_a_header(served: tuple[WebChat, str]) -> None:
    async with aiohttp.ClientSession() as http:
        client = Api(served[1], http)
        status, body = await client.get("/api/state", headers={HEADER: "new"})
        session = body["session"]
        assert inbound.valid_session(session)
        client.last = body["messages"][-1]
        status, _ = await client.post({"answer": pick(client.last["id"], {}),
                                       "token": client.last["token"]},
                                      headers={HEADER: session})
        assert status == 200 and client.last["progress"][0] == 2
        _, again = await client.get("/api/state", headers={HEADER: session})
        assert again["messages"][-1]["progress"][0] == 2 and again["session"] == session


async def test_a_body_over_the_cap_is_refused(api: Api) -> None:
    status, body = await api.post({"text": "x" * 5000})
    assert (status, body["error"]) == (413, "too_large") and body["message"]
    await api.answer()
    assert api.last["progress"][0] == 2


async def test_too_many_turns_get_a_localized_slow_down() -> None:
    chat = WebChat(make_app(), WebSettings(session_rate=3))
    runner = await start(chat, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            client = Api(f"http://127.0.0.1:{bound_port(runner)}", http)
            await client.get("/api/state?lang=sv")
            statuses = [(await client.post({"command": "help", "lang": "sv"}))[0]
                        for _ in range(3)]
            status, body = await client.post({"command": "help", "lang": "sv"})
    finally:
        await runner.cleanup()
    assert statuses == [200, 200, 200]
    assert (status, body["error"]) == (429, "slow_down") and "vänta" in body["message"]


async def test_too_many_requests_from_one_address_are_slowed_down() -> None:
    chat = WebChat(make_app(), WebSettings(address_rate=2))
    runner = await start(chat, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            client = Api(f"http://127.0.0.1:{bound_port(runner)}", http)
            statuses = [(await client.get("/api/state"))[0] for _ in range(3)]
    finally:
        await runner.cleanup()
    assert statuses == [200, 200, 429]
    assert not any("127.0.0.1" in key for key in chat.per_address.buckets)


async def test_the_page_has_a_strict_csp_and_only_listed_origins_may_frame_it(
        served: tuple[WebChat, str]) -> None:
    _, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as resp:
            csp = resp.headers["Content-Security-Policy"]
            html = await resp.text()
        assert csp == page_csp((ALLOWED,))
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert f"frame-ancestors 'self' {ALLOWED}" in csp
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/app.js" defer>']
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html)
        async with http.get(base + "/widget.js") as resp:
            assert resp.headers["Content-Type"].startswith("text/javascript")
        async with http.get(base + "/nothing-here") as resp:
            assert resp.status == 404 and resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_answers_listed_origins_only(served: tuple[WebChat, str]) -> None:
    _, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/ui?lang=sv", headers={"Origin": ALLOWED}) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
            assert (await resp.json())["ui"]["widget_open"]
        async with http.options(base + "/api/turn", headers={
                "Origin": ALLOWED, "Access-Control-Request-Method": "POST"}) as resp:
            assert resp.status == 204 and "POST" in resp.headers["Access-Control-Allow-Methods"]
        async with http.get(base + "/api/ui", headers={"Origin": "http://evil.test"}) as resp:
            assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
        async with http.post(base + "/api/turn", data=b'{"command": "help"}', headers={
                "Origin": "http://evil.test", "Content-Type": "application/json"}) as resp:
            assert resp.status == 403 and (await resp.json())["error"] == "origin"
        async with http.options(base + "/api/turn",
                                headers={"Origin": "http://evil.test"}) as resp:
            assert resp.status == 403


async def test_health_is_served_and_metrics_count_web_turns_but_not_on_this_port(
        api: Api, served: tuple[WebChat, str]) -> None:
    await api.answer()
    async with api.http.get(api.base + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "ok"
    async with api.http.get(api.base + "/metrics") as resp:
        assert resp.status == 404
    assert 'backcheck_updates_total{platform="web"}' in metrics_of(served[0].app).render(
    ).decode()


class BrokenSessions(MemoryStore):
    """A store whose session reads fail with something no store should raise (a bug)."""

    broken = False

    async def get(self, ns: str, key: str) -> Record | None:
        if self.broken and ns == SESSION:
            raise RuntimeError("a bug")
        return await super().get(ns, key)


def internal_errors(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if (sample.name == "backcheck_errors_total"
                    and sample.labels == {"platform": "web", "kind": "internal"}):
                return sample.value
    return 0.0


async def test_an_unexpected_error_in_a_turn_is_counted_once_and_answered_in_swedish(
        caplog: pytest.LogCaptureFixture) -> None:
    store = BrokenSessions()
    chat = WebChat(make_app(store), WebSettings(origins=(ALLOWED,)))
    runner = await start(chat, "127.0.0.1", 0)
    sv = {"Accept-Language": "sv-SE"}
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            client = Api(f"http://127.0.0.1:{bound_port(runner)}", http)
            _, state = await client.get("/api/state", headers=sv)
            client.last = state["messages"][-1]
            before = internal_errors(metrics_of(chat.app).render().decode())
            store.broken = True
            option = pick(client.last["id"], {})
            status, body = await client.post({"answer": option, "token": client.last["token"]},
                                             headers=sv)
            assert status == 500
            assert body["message"] == chat.app.text("sv", "errors.unavailable")
            assert internal_errors(metrics_of(chat.app).render().decode()) == before + 1
            store.broken = False  # nothing was lost: the same question, then the next
            status, body = await client.post({"answer": option, "token": client.last["token"]})
            assert status == 200 and body["messages"][-1]["progress"][0] == 2
    finally:
        await runner.cleanup()
    assert "a bug" in caplog.text  # logged, for the operator


async def test_no_address_and_no_session_id_reach_the_logs(
        caplog: pytest.LogCaptureFixture, served: tuple[WebChat, str]) -> None:
    caplog.set_level("DEBUG")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = Api(served[1], http)
        _, body = await client.get("/api/state")
        client.last = body["messages"][-1]
        await client.answer()
        session = next(c.value for c in http.cookie_jar if c.key == COOKIE)
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "update handled" in logged
    assert "127.0.0.1" not in logged.replace("listening on http://127.0.0.1", "")
    assert session not in logged


async def test_the_page_may_be_framed_by_listed_origins_and_nothing_else_by_anyone(
        served: tuple[WebChat, str]) -> None:
    """httpsafe's headers everywhere, except that the page keeps its own policy (its
    frame-ancestors name the listed sites) and so gets no X-Frame-Options: DENY."""
    _, base = served
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/?embed=1&lang=sv"):
            async with http.get(base + path) as resp:
                assert resp.headers["Content-Security-Policy"] == page_csp((ALLOWED,))
                assert "X-Frame-Options" not in resp.headers
                assert resp.headers["Cache-Control"] == "no-cache"
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert resp.headers["Referrer-Policy"] == "no-referrer"
        for path in ("/api/state", "/api/ui", "/healthz", "/widget.js", "/nothing-here"):
            async with http.get(base + path) as resp:
                headers = resp.headers
                assert headers["Content-Security-Policy"] == httpsafe.HEADERS[
                    "Content-Security-Policy"], path
                assert headers["X-Frame-Options"] == "DENY", path
                assert headers["X-Content-Type-Options"] == "nosniff", path


async def test_forget_by_the_operator_deletes_one_browsers_check(
        served: tuple[WebChat, str]) -> None:
    from bot.dsr import person_of

    chat, base = served
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = Api(base, http)
        _, body = await client.get("/api/state")
        client.last = body["messages"][-1]
        await client.answer()
        session = next(c.value for c in http.cookie_jar if c.key == COOKIE)
    person = person_of(f"web:{session}", Settings.from_env({}))
    assert person == inbound.session_key(session).person()
    assert await chat.app.store.forget(person) >= 1  # the check (and nothing else's)
    assert await chat.app.store.scan(SESSION) == []


# -- never an answer to a question nobody saw (issue 21, item 1) ---------------------------


def ambulance(chat: WebChat) -> str:
    return chat.app.text("en", "level.ambulance.headline")


@pytest.mark.parametrize("typed", ["no", "yes"])
async def test_a_session_id_the_server_never_issued_is_not_accepted(
        served: tuple[WebChat, str], typed: str) -> None:
    chat, base = served
    made_up = "A" * 43 + "." + "B" * 22  # the issued shape, but never issued
    async with aiohttp.ClientSession() as http:
        client = Api(base, http)
        for holder in ({"Cookie": f"{COOKIE}={made_up}"}, {HEADER: made_up}):
            status, body = await client.post({"text": typed}, headers=holder)
            assert (status, body["error"]) == (404, "unknown_session")
        status, body = await client.get("/api/state", headers={HEADER: made_up})
        assert body["session"] != made_up, "a made-up id gets a fresh one"
        assert body["messages"][-1]["progress"][0] == 1
    assert await chat.app.store.scan(SESSION) == [] or all(
        not r.data.get("answers") for _, r in await chat.app.store.scan(SESSION))


@pytest.mark.parametrize(("forget", "typed"), [("forget", "no"), ("glöm mig", "yes"),
                                                ("button", "no")])
async def test_after_forget_typed_text_starts_a_check_and_never_answers_question_1(
        served: tuple[WebChat, str], forget: str, typed: str) -> None:
    """Even a client that keeps its old cookie (the page drops it) gets question 1 shown,
    never answered: "no" does not deny the first warning sign, "yes" calls no ambulance."""
    chat, base = served
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = Api(base, http)
        _, body = await client.get("/api/state")
        client.last = body["messages"][-1]
        first = client.last["id"]
        await client.answer("no")
        kept = {c.key: c.value for c in http.cookie_jar}[COOKIE]
        status, body = await client.post({"command": "forget"} if forget == "button"
                                         else {"text": forget})
        assert status == 200 and body.get("ended") is True
        assert COOKIE not in {c.key for c in http.cookie_jar}, "the session ends"
        assert await chat.app.store.scan(SESSION) == []
        status, body = await client.post({"text": typed}, headers={"Cookie": f"{COOKIE}={kept}"})
    assert status == 200
    shown = body["messages"][-1]
    assert (shown["id"], shown["progress"][0]) == (first, 1)
    assert ambulance(chat) not in json.dumps(body, ensure_ascii=False)
    [(_, record)] = await chat.app.store.scan(SESSION)
    assert record.data["answers"] == [] and record.data["node"] == first


async def test_typed_text_answers_the_question_on_screen(api: Api) -> None:
    """The page sends the token of the question it shows with what is typed: the text
    answers that question, and only that one."""
    first = api.last
    status, body = await api.post({"text": "no", "token": first["token"]})
    assert status == 200 and body["messages"][-1]["progress"][0] == 2, "Q1 was on screen"
    status, body = await api.post({"text": "no", "token": first["token"]})  # Q1 again
    assert [m["type"] for m in body["messages"]] == ["notice"]
    status, body = await api.post({"text": "no"})  # no token (an API client): still the open
    assert body["messages"][-1]["progress"][0] == 3  # question, which is on its screen


async def test_a_visitor_who_only_looks_is_not_stored(served: tuple[WebChat, str]) -> None:
    """Anonymous requests write nothing: 200 page loads store no session; the first
    answer (a button, or typed under question 1) is what stores the check."""
    chat, base = served
    async with aiohttp.ClientSession() as http:
        client = Api(base, http)
        for _ in range(200):  # under the per-address limit of the fixture (300 a minute)
            status, body = await client.get("/api/state")
            assert status == 200 and body["messages"][-1]["progress"][0] == 1
    assert await chat.app.store.scan(SESSION) == []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        client = Api(base, http)
        _, body = await client.get("/api/state")
        client.last = body["messages"][-1]
        await client.get("/api/state")  # a reload
        assert await chat.app.store.scan(SESSION) == []
        first = client.last["id"]
        status, body = await client.post({"text": "no", "token": client.last["token"]})
        assert status == 200 and body["messages"][-1]["progress"][0] == 2
    [(_, record)] = await chat.app.store.scan(SESSION)
    assert record.data["answers"] == [[first, "no"]]


async def test_a_result_counts_once_in_the_totals_however_often_it_is_reached(
        api: Api, served: tuple[WebChat, str]) -> None:
    chat = served[0]
    await api.answer("yes")  # the first warning sign: the result at once
    for _ in range(5):
        await api.post({"command": "restart", "token": api.last["token"]})
        await api.answer("yes")
    table = await stats.totals(chat.app.store)
    assert sum(sum(week.values()) for week in table.values()) == 1
