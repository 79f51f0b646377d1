"""Clinical content version 3 (SPEC 4.5, issue 22): after an emergency sign the level shows
at once and "Show my result now" ends the check; each result tells the person's own story
(its own causes, reasons and sources; no advice or warning that contradicts an answer)."""

from __future__ import annotations

import json
import re

import pytest

from bot import commands
from bot.adapters.console.inbound import JSON_COMMANDS
from bot.adapters.slack import render as slack_render
from bot.adapters.telegram import render as telegram_render
from bot.adapters.web import inbound as web_inbound
from bot.adapters.web import render as web_render
from bot.engine import machine
from bot.engine.machine import State
from tests.support import TestBot, run_check, shipped

LANGS = ["en", "sv"]
EMERGENCY_SIGN = ["no", "no", "no", "yes"]  # cold foot, weak legs, spreading weakness: no;
# bladder or bowel: yes


async def _json_bot(lang: str = "en") -> TestBot:
    bot = TestBot(lang=lang, json_mode=True)
    await bot.start()
    return bot


async def _answer(bot: TestBot, *answers: str) -> dict[str, object]:
    for answer in answers:
        bot.pop_all()
        await bot.push(json.dumps({"answer": answer}))
    message: dict[str, object] = json.loads(bot.pop_all()[-1])
    return message


@pytest.mark.parametrize("lang", LANGS)
async def test_the_very_next_message_after_an_emergency_sign_shows_the_level(lang: str) -> None:
    flow, _ = shipped()
    bot = TestBot(lang=lang)
    tr = bot.app.words_for("console").translator(lang, "SE")  # the terminal's own words
    await bot.start()
    for answer in EMERGENCY_SIGN:
        bot.pop_all()
        await bot.push(answer if lang == "en" else {"yes": "ja", "no": "nej"}[answer])
    shown = "\n".join(bot.pop_all())
    assert tr.t("banner.emergency") in shown
    assert ("akutmottagning" if lang == "sv" else "emergency department") in shown
    assert tr.t("button.result") in shown
    assert tr.t(flow.nodes["saddle_numbness"].text) in shown, "the check goes on"


async def test_every_question_once_the_level_is_known_carries_it_in_json() -> None:
    bot = await _json_bot()
    before = await _answer(bot, "no", "no", "no")
    assert "level" not in before and "actions" not in before
    after = await _answer(bot, "yes")
    assert after["id"] == "saddle_numbness" and after["level"] == "emergency"
    assert after["actions"] == [{"command": "result", "label": "Show my result now"}]
    assert all(o["id"] != "result" for o in after["options"]), "answers stay answers"  # type: ignore[attr-defined]
    asked = 0
    while after["type"] == "question":
        asked += 1
        assert after["level"] == "emergency", after["id"]
        after = await _answer(bot, "no")
    assert asked <= 8 and after["level"] == "emergency"


@pytest.mark.parametrize(("command", "lang"), [('{"command": "result"}', "en"),
                                               ("result", "en"), ("resultat", "sv"),
                                               ("Visa mitt resultat nu", "sv")])
async def test_show_my_result_now_ends_the_check_at_the_level(command: str, lang: str) -> None:
    bot = TestBot(lang=lang, json_mode=True)
    await bot.start()
    await _answer(bot, *EMERGENCY_SIGN)
    bot.pop_all()
    await bot.push(command if command.startswith("{") else json.dumps({"text": command}))
    outcome = json.loads(bot.pop_all()[-1])
    assert outcome["type"] == "outcome" and outcome["level"] == "emergency"
    assert outcome["fits"] == ["cauda_equina"] and outcome["why"] == ["bladder_bowel"]
    alternatives = "another cause in the spine" if lang == "en" else "annan orsak i ryggraden"
    assert alternatives in outcome["text"], "skipped questions: the alternatives are named"


async def test_without_skipping_the_result_names_one_cause() -> None:
    outcome, _ = await run_check({"bladder_bowel": "yes"})
    assert "another cause in the spine" not in outcome["text"]


async def test_show_my_result_now_before_the_level_is_known_skips_nothing() -> None:
    flow, locales = shipped()
    bot = await _json_bot()
    first = await _answer(bot, "no")
    bot.pop_all()
    await bot.push('{"command": "result"}')
    again = json.loads(bot.pop_all()[-1])
    assert again["type"] == "question" and again["id"] == first["id"]
    assert "level" not in again


async def test_show_my_result_now_is_refused_where_the_level_can_still_rise() -> None:
    """Weakness spreading up the legs (emergency): trouble breathing would make it an
    ambulance, so that one question has no "Show my result now" and the command skips nothing."""
    bot = await _json_bot()
    breathing = await _answer(bot, "no", "no", "yes")
    assert breathing["id"] == "breathing_swallowing" and breathing["level"] == "emergency"
    assert "actions" not in breathing
    bot.pop_all()
    await bot.push('{"command": "result"}')
    again = json.loads(bot.pop_all()[-1])
    assert again["type"] == "question" and again["id"] == "breathing_swallowing"


def test_result_is_a_command_on_every_platform() -> None:
    assert "result" in commands.names()
    assert "result" in JSON_COMMANDS and "result" in web_inbound.COMMANDS
    flow, locales = shipped()
    answers = tuple(zip(["cold_pale_foot", "severe_weakness", "spreading_weakness",
                         "bladder_bowel"], EMERGENCY_SIGN, strict=True))
    state = State("saddle_numbness", answers, "en", "n0nce", 4)
    reply = machine.current(flow, state, locales.translator("en"))
    assert reply.level == "emergency"
    keyboard = telegram_render.keyboard(reply.buttons, reply.token)
    assert keyboard is not None
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert f"c|{state.token}|result" in data
    values = [e["value"] for block in slack_render.actions(reply.buttons, reply.token)
              for e in block["elements"]]
    assert f"{state.token}|result" in values
    page = web_render.question(reply)
    assert {"kind": "command", "id": "result", "label": "Show my result now"} in page["buttons"]


# -- each result shows only its own sources, guidelines first, with their addresses --------


def _sources(text: str) -> list[str]:
    block = next(b for b in text.split("\n\n") if b.startswith(("Sources:", "Källor:")))
    return block.splitlines()[1:]


async def test_a_result_lists_only_its_own_sources_guidelines_first_with_addresses() -> None:
    flow, _ = shipped()
    clot, _ = await run_check({"calf_swelling": "yes"})
    lines = _sources(clot["text"])
    assert any("NG158" in line and "https://www.nice.org.uk/guidance/ng158" in line
               for line in lines)
    assert all(re.search(r" – https://\S+$", line) for line in lines), lines
    kinds = {s.title: s.kind for s in flow.sources}
    order = [kinds[line[2:].rsplit(" – ", 1)[0]] for line in lines]
    assert order == sorted(order, key=lambda k: k != "guideline")
    calm, _ = await run_check({"radiating_pain": "yes"})
    assert not any("NG158" in line for line in _sources(calm["text"]))
    for blog in ("Shady Grove", "Foot Institute", "Regenerative Spine", "ISPP"):
        assert blog not in clot["text"] and blog not in calm["text"]


def test_the_articles_own_reading_list_is_in_the_faq_labelled_as_the_articles() -> None:
    _, locales = shipped()
    faq = machine.render.faq(locales.translator("en"))
    assert "The source article's own reading list" in faq and "Shady Grove Podiatry" in faq


# -- nothing in a result contradicts the answers --------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_anti_inflammatory_advice_always_warns_a_possibly_pregnant_person(lang: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "yes"}, lang=lang)
    helps = next(b for b in outcome["text"].split("\n\n")
                 if b.startswith(("What helps now", "Det här kan hjälpa nu")))
    assert "NSAID" in helps
    warning = ("do not take anti-inflammatory painkillers", "midwife") if lang == "en" else (
        "ska du inte ta antiinflammatoriska", "barnmorska")
    assert all(w in helps for w in warning), helps


async def test_no_fever_line_without_a_fever_and_no_numb_feet_care_without_numbness() -> None:
    clot, _ = await run_check({"calf_swelling": "yes"})
    assert "fever" not in clot["text"].split("Seek help at once if")[0].split("What helps now")[-1]
    tingling, _ = await run_check({"radiating_pain": "no", "tingling_persistent": "yes"})
    assert "Numb feet" not in tingling["text"]
    numb, _ = await run_check({"radiating_pain": "no", "numbness": "yes"})
    assert "Numb feet" in numb["text"]


async def test_a_doctor_not_a_physiotherapist_for_neuropathy_and_circulation() -> None:
    for answers in ({"radiating_pain": "no", "tingling_persistent": "yes"},
                    {"walking_pain": "yes", "circulation_signs": "yes", "smoking": "yes"}):
        outcome, _ = await run_check(answers)
        assert "See a doctor at your health centre rather than a physiotherapist" in (
            outcome["text"])
    smoker, _ = await run_check({"walking_pain": "yes", "circulation_signs": "yes",
                                 "smoking": "yes"})
    assert "Stopping smoking" in smoker["text"]
    non_smoker, _ = await run_check({"walking_pain": "yes", "circulation_signs": "yes"})
    assert "Stopping smoking" not in non_smoker["text"]


async def test_a_clot_result_names_its_own_warning_signs() -> None:
    outcome, _ = await run_check({"calf_swelling": "yes"})
    assert outcome["level"] == "urgent" and outcome["fits"] == ["dvt"]
    assert "chest pain, cough up blood or suddenly become short of breath → call 112" in (
        outcome["text"])


async def test_the_doctors_summary_shows_every_answer() -> None:
    bot = await _json_bot()
    await _answer(bot, *EMERGENCY_SIGN, "no", "no")
    bot.pop_all()
    await bot.push('{"command": "result"}')
    bot.pop_all()
    await bot.push('{"command": "summary"}')
    summary = json.loads(bot.pop_all()[0])["text"]
    assert summary.count("\n- ") == len(EMERGENCY_SIGN) + 2
