"""The web chat in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser), axe-core for accessibility.

Whole checks to an emergency and to self-care in English and Swedish, on a phone-sized
screen; the keyboard alone; a reload mid-check; the widget on a page from an allowed
origin and from one that is not listed. The phone screenshots are taken here, into the
test's own directory; `make pictures` (pytest --pictures docs) writes the ones in docs/.
Every question is answered by its option id (see `answer_all`), never by position or
count, so the tests hold while the clinical content changes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Frame, Page, async_playwright
from support import make_app, pick

from bot.adapters.web.serve import WebChat, start
from bot.adapters.web.settings import WebSettings
from bot.ops import bound_port

CHROMIUM = os.environ.get("BACKCHECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
EMERGENCY = {"cold_pale_foot": "yes"}  # the first red flag: an ambulance
TURN = "#log .question, #log .result"
# The newest question's text has the focus (not an answer button, not the page).
QUESTION_FOCUSED = """(() => { const qs = document.querySelectorAll('#log .question');
  return qs.length > 0 && document.activeElement === qs[qs.length - 1]; })()"""
Target = Page | Frame


@dataclass
class Site:
    """The bot's web server and two other origins: one listed, one not."""

    bot: str
    allowed: str
    unlisted: str


def host_page(bot: str, lang: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
            "</head><body><main><h1>Tingling toes</h1><p>An article.</p>"
            f"<script src='{bot}/widget.js' data-lang='{lang}'></script>"
            f"<iframe id='direct' title='direct' src='{bot}/'></iframe></main></body></html>")


async def _no_content(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _start_host(lang: str, where: dict[str, str]) -> tuple[web.AppRunner, str]:
    """A shop's page with the widget's script tag, on a port of its own."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=host_page(where["bot"], lang), content_type="text/html")

    host = web.Application()
    host.router.add_get("/", page)
    host.router.add_get("/favicon.ico", _no_content)
    runner = web.AppRunner(host, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{bound_port(runner)}"


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    """The bot on one port; a shop's page on a listed origin and one on an unlisted one
    (origins differ by port)."""
    where: dict[str, str] = {}
    allowed_runner, allowed = await _start_host("sv", where)
    unlisted_runner, unlisted = await _start_host("en", where)
    chat = WebChat(make_app(), WebSettings(origins=(allowed,)))
    runner = await start(chat, "127.0.0.1", 0)
    where["bot"] = f"http://127.0.0.1:{bound_port(runner)}"
    yield Site(where["bot"], allowed, unlisted)
    for r in (runner, allowed_runner, unlisted_runner):
        await r.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install -y chromium", pytrace=False)
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


async def new_page(browser: Browser, *, locale: str = "en-GB",
                   phone: bool = True) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh browser profile (no cookies); console errors and CSP refusals collected."""
    context = await browser.new_context(locale=locale, viewport=PHONE if phone else None,
                                        is_mobile=phone, has_touch=phone,
                                        accept_downloads=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


async def current_question(target: Target) -> str:
    await target.wait_for_selector("#choices button:not([disabled])")
    return await target.get_attribute("#choices", "data-question") or ""


async def choose(target: Target, answers: Mapping[str, str], qid: str) -> str:
    """The option id to press: what the scripted patient answers (support.pick); a
    question with one option (an info message) has only that one."""
    ids = await target.eval_on_selector_all("#choices button", "bs => bs.map(b => b.dataset.id)")
    wanted = pick(qid, answers)
    if wanted not in ids and len(ids) == 1:
        return str(ids[0])
    assert wanted in ids, f"{qid}: no option {wanted!r} among {ids}"
    return wanted


async def answer_all(target: Target, answers: Mapping[str, str] | None = None,
                     *, stop_after: int | None = None) -> list[str]:
    """Press buttons until the result shows (or `stop_after` answers); the ids asked."""
    asked: list[str] = []
    for _ in range(60):
        if await target.locator("#log .result").count():
            return asked
        if stop_after is not None and len(asked) == stop_after:
            return asked
        qid = await current_question(target)
        option = await choose(target, answers or {}, qid)
        shown = await target.locator(TURN).count()
        await target.click(f'#choices button[data-id="{option}"]')
        await next_turn(target, shown)
        asked.append(qid)
    raise AssertionError(f"no result after 60 answers: {asked}")


async def next_turn(target: Target, shown: int) -> None:
    """Wait for the next question or the result (the page's CSP forbids eval, so this
    waits with a selector, not with wait_for_function)."""
    await target.locator(TURN).nth(shown).wait_for(state="attached")


async def headline(target: Target) -> str:
    return (await target.inner_text("#log .result .headline")).strip()


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


# -- whole checks --------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "lang", "word"), [("en-GB", "en", "Call"),
                                                      ("sv-SE", "sv", "Ring")])
async def test_an_emergency_check_ends_in_the_ambulance_level(
        site: Site, browser: Browser, locale: str, lang: str, word: str) -> None:
    context, page, problems = await new_page(browser, locale=locale)
    await page.goto(site.bot + "/")
    await current_question(page)
    assert await page.get_attribute("html", "lang") == lang
    assert await answer_all(page, EMERGENCY) == ["cold_pale_foot"]
    text = await headline(page)
    assert "112" in text and word in text
    assert await page.locator("#log .result.level-ambulance").count() == 1
    assert await page.evaluate("document.activeElement.classList.contains('headline')")
    assert problems == []
    await context.close()


@pytest.mark.parametrize(("locale", "lang"), [("en-GB", "en"), ("sv-SE", "sv")])
async def test_a_self_care_check_on_a_phone_with_the_summary_for_the_doctor(
        site: Site, browser: Browser, locale: str, lang: str, pictures: Path) -> None:
    context, page, problems = await new_page(browser, locale=locale)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.bot)
    await page.goto(site.bot + "/")
    await current_question(page)
    if lang == "en":
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=str(pictures / "web-question.png"))
    await answer_all(page, stop_after=2)
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"]  # nothing wider than the phone
    asked = await answer_all(page)
    assert len(asked) >= 1 and "duration" in asked
    assert await page.locator("#log .result.level-self_care").count() == 1
    if lang == "en":
        await page.locator("#log .result .headline").scroll_into_view_if_needed()
        await page.evaluate("document.querySelector('#log .result').scrollIntoView()")
        await page.screenshot(path=str(pictures / "web-result.png"))
    await page.click('#choices button[data-id="summary"]')
    summary = page.locator("#log .summary .summary-text")
    await summary.wait_for()
    text = await summary.inner_text()
    assert await headline(page) in text or text.count("\n") > 3
    buttons = page.locator("#log .summary .summary-actions button")
    assert await buttons.count() == 3
    await buttons.nth(0).click()  # copy
    await page.locator("#status:not(:empty)").wait_for(state="attached")
    assert (await page.evaluate("navigator.clipboard.readText()")).strip() == text.strip()
    async with page.expect_download() as download:
        await buttons.nth(2).click()
    saved = Path(await (await download.value).path())
    assert saved.read_text(encoding="utf-8").strip() == text.strip()
    assert problems == []
    await context.close()


# Whether an element is laid out: it and every ancestor have a display (computed style).
SHOWN = """el => { for (let n = el; n; n = n.parentElement) {
  if (getComputedStyle(n).display === "none") { return false; } } return true; }"""
CHROME = ("header.top", "#progress-wrap", "#choices", "#typed", "#menu",
          "#log .summary .summary-actions")


async def shown(page: Page, selector: str) -> list[bool]:
    return [bool(await el.evaluate(SHOWN)) for el in await page.query_selector_all(selector)]


async def test_print_prints_the_summary_for_the_doctor_and_none_of_the_chat(
        site: Site, browser: Browser) -> None:
    """Print calls window.print (stubbed: it returns at once, as on phones, where printing
    goes on after the call) and the print stylesheet then lays out the summary only."""
    context, page, problems = await new_page(browser)
    await page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    await page.goto(site.bot + "/")
    await answer_all(page, EMERGENCY)
    await page.click('#choices button[data-id="summary"]')
    await page.locator("#log .summary").wait_for()
    await page.locator("#log .summary").get_by_role("button", name="Print").click()
    assert await page.evaluate("window.printed") == 1
    await page.emulate_media(media="print")
    assert await shown(page, "#log .summary .summary-text") == [True]
    assert await shown(page, "#log .summary h2") == [True]
    text = await page.inner_text("#log .summary .summary-text")
    assert text.strip() and "112" in text
    for selector in CHROME:
        assert await shown(page, selector) == [False], selector
    assert not any(await shown(page, "#log > :not(.summary)"))  # the chat, the result
    # Printing done: the page is whole again on screen, and on paper for the next time.
    await page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert all(await shown(page, "#log > *"))
    await page.emulate_media(media="screen")
    for selector in CHROME[:1] + CHROME[2:]:  # no progress bar under a result
        assert await shown(page, selector) == [True], selector
    assert problems == []
    await context.close()


# -- keyboard, reload, language ------------------------------------------------------------


async def test_a_check_with_the_keyboard_alone(site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser, phone=False)
    await page.goto(site.bot + "/")
    qid = await current_question(page)
    # The first answer typed into the text box: Tab to it, type, Enter.
    for _ in range(20):
        if await page.evaluate("document.activeElement.id") == "text":
            break
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "text"
    shown = await page.locator(TURN).count()
    await page.keyboard.type("no")
    await page.keyboard.press("Enter")
    await next_turn(page, shown)
    assert await current_question(page) != qid
    # The rest with the answer buttons: after a press the focus is on the new question's
    # text (Enter there answers nothing); Tab reaches the first answer and moves along.
    await page.focus("#choices button")
    pressed = False
    for _ in range(60):
        if await page.locator("#log .result").count():
            break
        qid = await current_question(page)
        if pressed:
            assert await page.evaluate(QUESTION_FOCUSED), qid
            await page.keyboard.press("Tab")
        option = await choose(page, {}, qid)
        ids = await page.eval_on_selector_all("#choices button", "bs => bs.map(b => b.dataset.id)")
        assert await page.evaluate("document.activeElement.dataset.id") == ids[0]
        for _ in range(ids.index(option)):
            await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.dataset.id")
        assert focused == option
        assert await page.evaluate("document.activeElement.matches(':focus-visible')")
        shown = await page.locator(TURN).count()
        await page.keyboard.press("Enter")
        await next_turn(page, shown)
        pressed = True
    assert await page.locator("#log .result.level-self_care").count() == 1
    assert await page.evaluate("document.activeElement.classList.contains('headline')")
    assert problems == []
    await context.close()


async def test_a_reload_mid_check_resumes_at_the_same_question(
        site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.bot + "/")
    await answer_all(page, stop_after=3)
    before = await current_question(page)
    progress = await page.inner_text("#progress-text")
    await page.reload()
    assert await current_question(page) == before
    assert await page.inner_text("#progress-text") == progress
    assert await page.locator("#log .msg").count() == 2  # "Welcome back" and the question
    await answer_all(page)
    assert await page.locator("#log .result").count() == 1
    assert problems == []
    await context.close()


async def test_the_language_switch_asks_the_same_question_in_swedish(
        site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.bot + "/")
    qid = await current_question(page)
    await page.click("#langs button[lang=sv]")
    await page.locator("html[lang=sv]").wait_for(state="attached")
    assert await current_question(page) == qid
    assert await page.inner_text("#send") == "Skicka"
    assert await page.locator("#langs button[lang=en]").count() == 1
    assert problems == []
    await context.close()


async def test_delete_my_answers_asks_first_then_clears_everything(
        site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.bot + "/")
    await answer_all(page, stop_after=2)
    before = {c["name"]: c["value"] for c in await context.cookies()}
    asked = await page.locator("#log .msg").count()
    forget = page.locator('#menu button[data-command="forget"]')
    # First it asks, inline, with the focus on "No": one tap deletes nothing.
    await forget.click()
    confirm = page.get_by_role("alertdialog")
    await confirm.wait_for()
    assert "cannot be undone" in await confirm.inner_text()
    assert await page.evaluate("document.activeElement.id") == "confirm-no"
    assert await serious_violations(page) == []
    await page.keyboard.press("Enter")  # No, keep my answers
    await confirm.wait_for(state="detached")
    assert await forget.evaluate("b => b === document.activeElement")
    assert await page.locator("#log .msg").count() == asked
    assert {c["name"]: c["value"] for c in await context.cookies()} == before
    # Then yes: the transcript goes, and a new check is the only thing on offer.
    await forget.click()
    await confirm.get_by_role("button", name="Yes, delete it all").click()
    start_again = page.locator("#choices button.action")
    await start_again.wait_for()
    assert await start_again.evaluate("b => b === document.activeElement")
    assert await page.locator("#log .msg").all_inner_texts() == [
        "Done – I have deleted everything I had stored about you."]
    visible = [b for b in await page.get_by_role("button").all() if await b.is_visible()]
    assert [await b.inner_text() for b in visible
            if not await b.evaluate("b => !!b.closest('#langs')")] == ["Start a new check"]
    assert not await page.locator("#typed").is_visible()
    assert "backcheck_session" not in {c["name"] for c in await context.cookies()}
    assert await serious_violations(page) == []
    shown = await page.locator(TURN).count()
    await start_again.click()
    await next_turn(page, shown)
    assert await page.eval_on_selector("#progress", "p => p.value") == 0  # question 1 again
    assert await page.locator("#menu").is_visible() and await page.locator("#typed").is_visible()
    after = {c["name"]: c["value"] for c in await context.cookies()}
    assert after["backcheck_session"] != before["backcheck_session"]
    assert await page.locator("#log .question").last.get_attribute("data-question") == (
        await current_question(page))
    assert problems == []
    await context.close()


@pytest.mark.parametrize("locale", ["en-GB", "sv-SE"])
async def test_focus_never_lands_on_yes_of_a_warning_sign_question(
        site: Site, browser: Browser, locale: str) -> None:
    """Enter on a focused Yes would answer a warning-sign question unread: the focus goes
    to the question's text, where Enter does nothing; after an answer, and after a
    re-prompt, too."""
    context, page, problems = await new_page(browser, locale=locale, phone=False)
    await page.goto(site.bot + "/")
    first = await current_question(page)
    assert await page.evaluate(QUESTION_FOCUSED)
    await page.keyboard.press("Enter")
    await page.keyboard.press("Space")
    assert await page.locator("#log .msg.me").count() == 0  # nothing was answered
    await answer_all(page, stop_after=1)
    second = await current_question(page)
    assert second != first and await page.evaluate(QUESTION_FOCUSED)
    await page.fill("#text", "my toes")  # no answer: asked again, the focus back in the box
    shown = await page.locator(TURN).count()
    await page.press("#text", "Enter")
    await next_turn(page, shown)
    assert await page.evaluate("document.activeElement.id") == "text"
    assert await current_question(page) == second
    assert problems == []
    await context.close()


async def test_start_again_is_offered_once_under_a_result(site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.bot + "/")
    await answer_all(page)
    names = [await b.inner_text() for b in await page.get_by_role("button").all()
             if await b.is_visible()]
    assert names.count("Start again") == 1, names
    assert problems == []
    await context.close()


# -- the widget ----------------------------------------------------------------------------


async def test_the_widget_on_a_listed_origin_opens_the_check_in_swedish(
        site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.allowed + "/")
    opener = page.locator("button.backcheck-open")
    await opener.wait_for()
    assert await opener.inner_text() == "Gör kollen på 5 minuter"
    await opener.click()
    frame = page.frame_locator("#backcheck-panel iframe")
    await frame.locator("#choices button:not([disabled])").first.wait_for()
    inner = next(f for f in page.frames if f.url.startswith(site.bot + "/?embed=1"))
    first = await current_question(inner)
    await answer_all(inner, stop_after=1)
    second = await current_question(inner)
    # The host page reloaded: the widget's frame resumes the same check (its session id
    # is kept for the tab, as a cookie in a third-party frame would not be).
    await page.reload()
    await page.locator("button.backcheck-open").click()
    await frame.locator("#choices button:not([disabled])").first.wait_for()
    inner = next(f for f in page.frames if f.url.startswith(site.bot + "/?embed=1"))
    assert await current_question(inner) == second
    shown = await inner.locator(TURN).count()
    await inner.click('#menu button[data-command="restart"]')
    await next_turn(inner, shown)
    assert await current_question(inner) == first
    assert await answer_all(inner, EMERGENCY) == ["cold_pale_foot"]
    assert "Ring 112" in await headline(inner)
    await page.click("#backcheck-panel .backcheck-close")
    assert await page.locator("#backcheck-panel").is_hidden()
    assert problems == []
    await context.close()


async def opener_has_focus(page: Page) -> bool:
    return bool(await page.evaluate(
        "document.activeElement && document.activeElement.matches('button.backcheck-open')"))


async def test_escape_closes_the_widget_and_focus_returns_to_its_button(
        site: Site, browser: Browser) -> None:
    """With the keyboard alone: Enter opens the panel, Escape closes it from inside the
    check (the bot's frame) and from the panel's own Close button, and each time the
    focus is back on "Take the 5-minute check", which says the panel is closed."""
    context, page, problems = await new_page(browser, phone=False)
    await page.goto(site.allowed + "/")
    opener = page.locator("button.backcheck-open")
    panel = page.locator("#backcheck-panel")
    await opener.focus()
    await page.keyboard.press("Enter")
    frame = page.frame_locator("#backcheck-panel iframe")
    await frame.locator("#choices button:not([disabled])").first.wait_for()
    inner = next(f for f in page.frames if f.url.startswith(site.bot + "/?embed=1"))
    assert await inner.evaluate(QUESTION_FOCUSED)  # the question, never its Yes
    await page.keyboard.press("Escape")  # inside the check
    await panel.wait_for(state="hidden")
    assert await opener.get_attribute("aria-expanded") == "false"
    assert await opener_has_focus(page)
    await page.keyboard.press("Enter")  # open again: the same check, then its Close button
    await panel.wait_for(state="visible")
    await page.focus("#backcheck-panel .backcheck-close")
    await page.keyboard.press("Escape")
    await panel.wait_for(state="hidden")
    assert await opener.get_attribute("aria-expanded") == "false"
    assert await opener_has_focus(page)
    assert await opener.evaluate("b => b.matches(':focus-visible')")
    assert problems == []
    await context.close()


async def test_the_widget_on_an_unlisted_origin_is_refused(site: Site,
                                                           browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.unlisted + "/")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("button.backcheck-open").count() == 0
    framed = next(f for f in page.frames if f != page.main_frame)
    assert await framed.locator("#log").count() == 0  # frame-ancestors refused it
    assert any("frame-ancestors" in p or "CORS" in p or "Access-Control" in p
               for p in problems), problems
    await context.close()


# -- accessibility -------------------------------------------------------------------------


async def test_axe_finds_no_serious_violation_on_a_question_and_a_result(
        site: Site, browser: Browser) -> None:
    context, page, problems = await new_page(browser)
    await page.goto(site.bot + "/")
    await current_question(page)
    assert await serious_violations(page) == []
    await answer_all(page)
    assert await serious_violations(page) == []
    await page.click('#choices button[data-id="summary"]')
    await page.locator("#log .summary").wait_for()
    assert await serious_violations(page) == []
    context2, page2, _ = await new_page(browser, locale="sv-SE")
    await page2.goto(site.bot + "/")
    await answer_all(page2, EMERGENCY)
    assert await serious_violations(page2) == []
    assert problems == []
    await context.close()
    await context2.close()
