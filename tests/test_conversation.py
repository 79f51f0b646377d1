"""The conversation as a person in the terminal sees it (push/pop test bot, memory store)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bot.stores import open_store
from bot.types import Incoming, SessionKey
from tests.support import TestBot, make_app


async def started(lang: str = "en") -> TestBot:
    bot = TestBot(lang=lang)
    await bot.start()
    return bot


async def test_first_screen_introduces_the_check_and_asks_the_first_red_flag() -> None:
    bot = await started()
    screen = bot.pop()
    assert "This is not a diagnosis" in screen
    assert "Question 1 of about" in screen
    assert ("In the last few hours or days, has one of your feet or legs suddenly turned cold"
            in screen)
    assert "Feet that are often cold, or tingling you already had, do not count." in screen
    assert "  1. Yes\n  2. No\n  3. Not sure" in screen


@pytest.mark.parametrize("typed", ["no", "No!", "nej", "2", "n", "NEJ."])
async def test_typed_answers_in_either_language(typed: str) -> None:
    bot = await started()
    bot.pop_all()
    await bot.push(typed)
    screen = bot.pop_all()[-1]
    assert "Question 2 of about" in screen
    assert "so weak right now that you cannot stand up or walk" in screen


async def test_a_label_in_swedish_and_not_sure() -> None:
    bot = await started("sv")
    assert "Fråga 1 av ungefär" in bot.pop_all()[-1]
    await bot.push("vet inte")
    assert bot.pop_all()[-1].startswith("🚑 Ring 112 nu")


async def test_nonsense_gets_a_kind_reprompt_with_the_same_question() -> None:
    bot = await started()
    bot.pop_all()
    await bot.push("my toes feel funny")
    screen = bot.pop_all()[-1]
    assert screen.startswith("Sorry, I didn't catch that.")
    assert "Question 1 of about" in screen
    assert "  1. Yes" in screen


async def test_back_undoes_the_last_answer_and_restart_starts_over() -> None:
    bot = await started()
    await bot.push("no")
    await bot.push("no")
    bot.pop_all()
    await bot.push("back")
    screen = bot.pop_all()[-1]
    assert screen.startswith("OK, let's take that question again.")
    assert "Question 2 of about" in screen
    await bot.push("restart")
    assert "Question 1 of about" in bot.pop_all()[-1]
    await bot.push("back")
    assert bot.pop_all()[-1].startswith("There is nothing to go back to")


async def test_switching_language_resends_the_current_question() -> None:
    bot = await started()
    await bot.push("no")
    bot.pop_all()
    await bot.push("svenska")
    screen = bot.pop_all()[-1]
    assert screen.startswith("Nu pratar vi svenska.")
    assert "Fråga 2 av ungefär" in screen
    await bot.push("language")
    assert "Question 2 of about" in bot.pop_all()[-1]


@pytest.mark.parametrize(("command", "words"), [
    ("help", "back – change your last answer"),
    ("faq", "Is tingling in my toes always caused by back problems?"),
    ("privacy", "What I store"),
    ("hjälp", "back – change your last answer"),
])
async def test_help_faq_and_privacy_keep_the_question_open(command: str, words: str) -> None:
    bot = await started()
    bot.pop_all()
    await bot.push(command)
    screen = bot.pop_all()[-1]
    assert words in screen
    assert "Question 1 of about" in screen


async def test_stop_ends_and_deletes_the_check() -> None:
    bot = await started()
    await bot.push("no")
    bot.pop_all()
    await bot.push("stop")
    assert bot.pop_all() == ["Stopped. I have deleted this check. Goodbye – start the check "
                             "again whenever you want.\n"]
    assert bot.console.ended
    assert await bot.app.store.get("session", bot.console.key.id()) is None


async def test_after_the_outcome_summary_restart_and_faq_are_offered() -> None:
    bot = await started()
    await bot.push("yes")
    outcome = bot.pop_all()[-1]
    assert outcome.startswith("🚑 Call 112 now")
    assert "  1. Summary for my doctor\n  2. Start again\n  3. Questions & answers" in outcome
    await bot.push("1")
    summary = bot.pop_all()[0]
    assert summary.startswith("Summary for my doctor – back pain with tingling toes (check done ")
    assert ("- A foot or leg suddenly turned cold and pale or bluish, with severe pain or"
            " numbness: Yes") in summary
    assert "Result of the check: Call 112 now" in summary
    await bot.push("2")
    assert "Question 1 of about" in bot.pop_all()[-1]


@pytest.mark.parametrize("seed", range(12))
async def test_the_progress_total_never_goes_up_during_a_check(seed: int) -> None:
    """Whatever a person answers, "Question n of about N": N never rises, n rises by one,
    and no check is longer than 23 questions (the flow's max_questions, proven by lint)."""
    rng = random.Random(seed)
    bot = await started()
    totals, numbers = [], []
    while True:
        screen = bot.pop_all()[-1]
        if "of about" not in screen:
            break
        head = screen.split("Question ")[1].split("\n")[0]
        numbers.append(int(head.split(" of about ")[0]))
        totals.append(int(head.split(" of about ")[1]))
        await bot.push(str(rng.choice([1, 2, 2, 2, 3])))  # mostly No; 3 only where offered
    assert totals == sorted(totals, reverse=True), totals
    assert numbers == list(range(1, len(numbers) + 1))
    assert totals[0] <= 23 and len(numbers) <= 23


@pytest.mark.parametrize("typed", ["", "   ", ".", "!!", "...", "-"])
async def test_a_blank_or_punctuation_only_message_is_no_answer(typed: str) -> None:
    bot = await started()
    bot.pop_all()
    await bot.push(typed)
    screen = bot.pop_all()[-1]
    assert screen.startswith("Sorry, I didn't catch that.")
    assert "Question 1 of about" in screen
    record = await bot.app.store.get("session", bot.console.key.id())
    assert record is None or record.data["answers"] == []


@pytest.mark.parametrize(("lang", "typed", "lead"), [
    ("en", "?", "Here is the question again"), ("en", "??", "Here is the question again"),
    ("sv", "?", "Här är frågan igen")])
async def test_a_question_mark_explains_the_question_and_answers_nothing(
        lang: str, typed: str, lead: str) -> None:
    bot = await started(lang)
    bot.pop_all()
    await bot.push(typed)
    screen = bot.pop_all()[-1]
    assert screen.startswith(lead)
    assert "1 " in screen.split("\n\n")[1]  # still question 1
    assert not screen.startswith(("🚑", "🚨"))


async def test_a_reopened_terminal_shows_the_result_and_its_menu_again(tmp_path: Path) -> None:
    """After a result, `make chat` again shows that result and its menu, so a number typed
    next picks from the menu and never answers a new check's first question."""
    store = f"sqlite:///{tmp_path / 's.sqlite3'}"
    first = TestBot(make_app(store=open_store(store)))
    await first.start()
    await first.push("no")
    await first.push("no")
    await first.push("no")
    await first.push("yes")  # bladder_bowel: the level at once, then the remaining signs
    assert first.pop_all()[-1].startswith("🚨")
    await first.push("4")  # Show my result now
    assert first.pop_all()[-1].startswith("🚨 Go to an emergency department now")
    await first.app.store.close()
    again = TestBot(make_app(store=open_store(store)))
    await again.start()
    screen = again.pop_all()[-1]
    assert "🚨 Go to an emergency department now" in screen
    assert "  1. Summary for my doctor\n  2. Start again\n  3. Questions & answers" in screen
    await again.push("1")
    assert again.pop_all()[0].startswith("Summary for my doctor")
    await again.push("2")
    assert "Question 1 of about" in again.pop_all()[-1]
    await again.app.store.close()


async def test_a_stale_or_double_pressed_button_is_already_answered() -> None:
    app = make_app()
    key = SessionKey("test", "w", "c", "u")
    first = await app.handle(Incoming(key, "start"))
    token = first[-1].token
    pressed = await app.handle(Incoming(key, "answer", "no", token))
    assert [r.kind for r in pressed] == ["answered", "question"]
    assert pressed[0].text.endswith("✓ No")
    again = await app.handle(Incoming(key, "answer", "no", token))
    assert [(r.kind, r.text) for r in again] == [
        ("stale", "That question has already been answered.")]
    forged = await app.handle(Incoming(key, "answer", "yes", "forged.1"))
    assert forged[0].kind == "stale"
    record = await app.store.get("session", key.id())
    assert record is not None and len(record.data["answers"]) == 1


async def test_forget_deletes_everything_and_old_buttons_do_not_reopen() -> None:
    app = make_app()
    key = SessionKey("test", "w", "c", "u")
    first = await app.handle(Incoming(key, "start"))
    await app.handle(Incoming(key, "command", "language sv"))
    gone = await app.handle(Incoming(key, "text", "glöm mig"))
    assert gone[0].text.startswith("Klart – jag har raderat allt")
    assert await app.store.scan("session") == [] and await app.store.scan("prefs") == []
    late = await app.handle(Incoming(key, "answer", "yes", first[-1].token))
    assert late[0].kind == "stale"
    assert await app.store.scan("session") == []


async def test_a_huge_message_gets_a_reprompt_not_a_crash() -> None:
    bot = await started()
    bot.pop_all()
    await bot.push("x" * 50_000)
    assert bot.pop_all()[-1].startswith("Sorry, I didn't catch that.")


async def test_after_a_lost_result_the_person_is_shown_it_again() -> None:
    app = make_app()
    key = SessionKey("test", "w", "c", "u")
    first = await app.handle(Incoming(key, "start"))
    await app.handle(Incoming(key, "answer", "yes", first[-1].token))  # the result is "lost"
    again = await app.handle(Incoming(key, "command", "current"))
    assert again[0].text.startswith("Sorry, something went wrong on my side.")
    assert again[1].kind == "outcome" and again[1].text.startswith("🚑 Call 112 now")
    menu = await app.handle(Incoming(key, "text", "hello"))
    assert menu[-1].text.startswith("🚑 Call 112 now\n\nThis check is finished.")


@pytest.mark.parametrize(("lang", "lines"), [
    ("en", ["• back – change your last answer", "• forget – delete everything I have stored"]),
    ("sv", ["• tillbaka – ändra ditt senaste svar", "• glöm – radera allt jag har sparat"])])
async def test_help_lists_every_menu_command_from_the_registry(lang: str,
                                                               lines: list[str]) -> None:
    """The terminal's help is built from the command registry, as Telegram's menu is:
    one line per menu command, with the word to type in the person's language."""
    from bot.commands import REGISTRY

    bot = await started(lang)
    bot.pop_all()
    await bot.push("help")
    screen = bot.pop_all()[-1]
    for line in lines:
        assert line in screen
    listed = [spec for spec in REGISTRY if spec.menu and spec.name != "help"]
    assert screen.count("\n• ") == len(listed)


# -- words that fit the terminal: no buttons, and it ends at stop and forget --------------

BUTTON_WORDS = re.compile(r"\b(buttons?|tap|knapp\w*|tryck)\b")  # "tappat" is no tap


@pytest.mark.parametrize(("lang", "nonsense", "typing"), [
    ("en", "my toes feel funny", "Type the number of an answer"),
    ("sv", "tårna känns konstiga", "Skriv svarets nummer"),
])
async def test_the_terminal_never_speaks_of_buttons(lang: str, nonsense: str,
                                                    typing: str) -> None:
    bot = await started(lang)
    screens = bot.pop_all()
    await bot.push(nonsense)
    reprompt = bot.pop_all()[-1]
    await bot.push("help" if lang == "en" else "hjälp")
    screens += [reprompt, *bot.pop_all()]
    assert typing in reprompt
    for answer in ("no", "no", "no", "yes" if lang == "en" else "ja"):  # an emergency sign:
        await bot.push(answer)  # the banner and "Show my result now" on the next question
    screens += bot.pop_all()
    assert bot.app.text(lang, "button.result") in screens[-1]
    for screen in screens:
        assert not BUTTON_WORDS.search(screen.lower()), screen


async def test_a_platform_with_buttons_keeps_its_own_words() -> None:
    """The words are chosen by the platform's description in the App, not by the
    terminal's adapter: Telegram (with buttons) still says "tap one of the buttons"."""
    app = make_app()
    key = SessionKey("telegram", "1", "2", "3")
    await app.handle(Incoming(key, "start"))
    replies = await app.handle(Incoming(key, "text", "my toes feel funny"))
    assert "Please tap one of the buttons" in replies[-1].text


@pytest.mark.parametrize(("lang", "word", "said"), [
    ("en", "forget", "Done – I have deleted everything I had stored about you. Goodbye – "
                     "start the check again whenever you want to do a new one.\n"),
    ("sv", "glöm mig", "Klart – jag har raderat allt jag hade sparat om dig. Hej då – starta "
                       "kollen igen när du vill göra en ny.\n"),
])
async def test_forget_in_the_terminal_says_what_is_true_and_ends(lang: str, word: str,
                                                                 said: str) -> None:
    bot = await started(lang)
    await bot.push("no" if lang == "en" else "nej")
    bot.pop_all()
    await bot.push(word)
    assert bot.pop_all() == [said]
    assert bot.console.ended
    assert await bot.app.store.scan("session") == []
