"""Clinical scenarios of SPEC section 4 (version 3), in English and Swedish.
The level, the reasons and the "may fit" list must never depend on the language."""

from __future__ import annotations

import pytest

from tests.support import make_app, run_check

LANGS = ["en", "sv"]

AMBULANCE = [
    ("cold_pale_foot", "yes", "acute_limb_ischaemia"),
    ("cold_pale_foot", "unsure", "acute_limb_ischaemia"),
    ("severe_weakness", "yes", "neurological"),
    ("severe_weakness", "unsure", "neurological"),
]

EMERGENCY = [
    ("bladder_bowel", "yes", "cauda_equina"),
    ("bladder_bowel", "unsure", "cauda_equina"),
    ("saddle_numbness", "yes", "cauda_equina"),
    ("saddle_numbness", "unsure", "cauda_equina"),
    ("both_legs", "yes", "cauda_equina"),
    ("both_legs", "unsure", "cauda_equina"),
    ("weakness_worsening", "yes", "sciatica"),
    ("weakness_worsening", "unsure", "sciatica"),
    ("major_injury", "yes", "spinal_fracture"),
]

# After an emergency sign only these may still be asked (SPEC 4.5), at most 8 of them.
AFTER_EXIT = {"bladder_bowel", "saddle_numbness", "both_legs", "weakness_worsening",
              "major_injury", "cancer_history", "fever_unwell", "other_neuro"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("question", "answer", "fit"), AMBULANCE)
async def test_an_ambulance_sign_ends_the_check_at_once(question: str, answer: str, fit: str,
                                                        lang: str) -> None:
    outcome, asked = await run_check({question: answer}, lang=lang)
    assert outcome["level"] == "ambulance"
    assert outcome["why"] == [question]
    assert fit in outcome["fits"]
    assert asked[-1] == question, "an ambulance sign must stop the check immediately"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("question", "answer", "fit"), EMERGENCY)
async def test_an_emergency_sign_asks_only_the_remaining_warning_signs(
        question: str, answer: str, fit: str, lang: str) -> None:
    outcome, asked = await run_check({question: answer}, lang=lang)
    assert outcome["level"] == "emergency"
    assert outcome["why"] == [question]
    assert fit in outcome["fits"]
    after = asked[asked.index(question) + 1:]
    assert set(after) <= AFTER_EXIT and len(after) <= 8, after
    assert AFTER_EXIT - {question} - set(asked) == set(), "every remaining sign is asked"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("spreading", ["yes", "unsure"])
@pytest.mark.parametrize(("breathing", "level"), [("no", "emergency"), ("yes", "ambulance"),
                                                  ("unsure", "ambulance")])
async def test_spreading_weakness_asks_about_breathing_first(
        spreading: str, breathing: str, level: str, lang: str) -> None:
    outcome, asked = await run_check({"spreading_weakness": spreading,
                                      "breathing_swallowing": breathing}, lang=lang)
    at = asked.index("spreading_weakness")
    assert asked[at + 1] == "breathing_swallowing"
    assert outcome["level"] == level
    assert "guillain_barre" in outcome["fits"]
    if level == "ambulance":
        assert asked[-1] == "breathing_swallowing", "an ambulance sign ends the check at once"
    else:
        assert len(asked[at + 2:]) <= 8 and set(asked[at + 2:]) <= AFTER_EXIT


async def test_breathing_is_only_asked_after_spreading_weakness() -> None:
    _, asked = await run_check({})
    assert "spreading_weakness" in asked and "breathing_swallowing" not in asked


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("question", ["fever_unwell", "cancer_history", "foot_wound",
                                      "sudden_onset", "other_neuro", "calf_swelling"])
async def test_get_care_today_signs(question: str, lang: str) -> None:
    outcome, _ = await run_check({question: "yes"}, lang=lang)
    assert outcome["level"] == "urgent"
    assert question in outcome["why"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("spreading", ["yes", "unsure"])
async def test_spreading_numbness_is_care_today(spreading: str, lang: str) -> None:
    outcome, asked = await run_check({"numbness": "yes", "numbness_spreading": spreading},
                                     lang=lang)
    assert outcome["level"] == "urgent"
    assert outcome["why"][-1] == "numbness_spreading"
    assert asked.index("numbness_spreading") == asked.index("numbness") + 1


async def test_sudden_onset_is_only_asked_of_symptoms_under_a_week_old() -> None:
    _, asked = await run_check({"duration": "1_to_6_weeks"})
    assert "sudden_onset" not in asked
    _, asked = await run_check({"duration": "under_1_week"})
    assert "sudden_onset" in asked


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sign", [{"numbness": "yes"}, {"foot_weakness": "yes"}])
async def test_cancer_with_numbness_or_foot_weakness_is_an_emergency(sign: dict[str, str],
                                                                     lang: str) -> None:
    outcome, asked = await run_check({"cancer_history": "yes", **sign}, lang=lang)
    assert outcome["level"] == "emergency"
    assert outcome["why"] == ["cancer_history", *sign]
    assert outcome["fits"] == ["spinal_metastases"]
    assert asked[-1] == next(iter(sign))


@pytest.mark.parametrize("lang", LANGS)
async def test_cancer_without_nerve_signs_is_get_care_today(lang: str) -> None:
    outcome, asked = await run_check({"cancer_history": "yes"}, lang=lang)
    assert outcome["level"] == "urgent"
    assert asked[-2:] == ["numbness", "foot_weakness"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("duration", "trend"), [("under_1_week", "better"),
                                                 ("under_1_week", "same"),
                                                 ("1_to_6_weeks", "better")])
async def test_short_settling_sciatica_is_self_care(duration: str, trend: str, lang: str) -> None:
    outcome, asked = await run_check({"radiating_pain": "yes", "duration": duration,
                                      "trend": trend}, lang=lang)
    assert outcome["level"] == "self_care"
    assert outcome["fits"] == ["sciatica"]
    assert outcome["why"] == ["radiating_pain", "duration", "trend"]
    assert len(asked) <= 22


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("answers", "why"), [
    ({"trend": "worse"}, ["trend"]),
    ({"trend": "same", "duration": "1_to_6_weeks"}, ["duration", "trend"]),
    ({"duration": "over_6_weeks"}, ["duration"]),
    ({"numbness": "yes"}, ["numbness"]),
    ({"numbness": "unsure"}, ["numbness"]),
    ({"foot_weakness": "yes"}, ["foot_weakness"]),
    ({"diabetes_risk": "yes"}, ["diabetes_risk"]),
    ({"walking_pain": "yes", "circulation_signs": "yes"}, ["walking_pain", "circulation_signs"]),
    ({"walking_pain": "yes", "walking_sit_eases": "yes"}, ["walking_pain", "walking_sit_eases"]),
    ({"foot_injury": "yes"}, ["foot_injury"]),
])
async def test_checklist_signs_need_an_appointment(answers: dict[str, str], why: list[str],
                                                   lang: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "yes", **answers}, lang=lang)
    assert outcome["level"] == "appointment"
    # why: the answer that put sciatica on the list, then every answer that decided the level
    assert outcome["why"] == ["radiating_pain", *why]


@pytest.mark.parametrize("lang", LANGS)
async def test_persistent_tingling_without_sciatica_needs_an_appointment(lang: str) -> None:
    outcome, asked = await run_check({"radiating_pain": "no", "tingling_persistent": "yes"},
                                     lang=lang)
    assert outcome["level"] == "appointment"
    assert outcome["why"] == ["radiating_pain", "tingling_persistent"]
    assert "peripheral_neuropathy" in outcome["fits"]
    assert {"walking_pain", "inner_ankle"} <= set(asked)
    assert "diabetes_risk" not in asked, "neuropathy is already on the list"
    calm, _ = await run_check({"radiating_pain": "no", "tingling_persistent": "no"}, lang=lang)
    assert calm["level"] == "self_care"


@pytest.mark.parametrize("lang", LANGS)
async def test_diabetes_unsure_with_persistent_tingling_needs_an_appointment_without_sciatica(
        lang: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "no", "tingling_persistent": "yes",
                                  "diabetes_risk": "unsure", "walking_pain": "no"}, lang=lang)
    assert outcome["level"] == "appointment"
    assert "peripheral_neuropathy" in outcome["fits"]


@pytest.mark.parametrize("lang", LANGS)
async def test_untested_diabetes_does_not_turn_a_settling_sciatica_into_an_appointment(
        lang: str) -> None:
    """v3 (issue 22): one-sided sciatica that is getting better, with tingling in the same
    foot, is not "polyneuropathy" because the person never had a diabetes test."""
    outcome, asked = await run_check({"radiating_pain": "yes", "diabetes_risk": "unsure",
                                      "duration": "1_to_6_weeks", "trend": "better"}, lang=lang)
    assert outcome["level"] == "self_care"
    assert outcome["fits"] == ["sciatica"]
    assert "tingling_persistent" not in asked, "the tingling of a sciatica changes nothing"


async def test_once_an_appointment_is_due_for_sciatica_the_list_questions_are_skipped() -> None:
    outcome, asked = await run_check({"radiating_pain": "yes", "duration": "over_6_weeks"})
    assert outcome["level"] == "appointment"
    assert asked[-1] == "long_sitting"
    assert not {"trend", "diabetes_risk", "walking_pain", "foot_injury"} & set(asked)
    assert len(asked) <= 17


@pytest.mark.parametrize("lang", LANGS)
async def test_peripheral_artery_disease_pattern(lang: str) -> None:
    outcome, asked = await run_check({"walking_pain": "yes", "circulation_signs": "yes"},
                                     lang=lang)
    assert outcome["level"] == "appointment"
    assert "peripheral_artery_disease" in outcome["fits"]
    assert asked[asked.index("circulation_signs") + 1] == "smoking"
    worse, _ = await run_check({"foot_wound": "yes"}, lang=lang)
    assert worse["level"] == "urgent"
    assert "peripheral_artery_disease" in worse["fits"]


@pytest.mark.parametrize("lang", LANGS)
async def test_tarsal_tunnel_is_on_the_list_for_persistent_sole_tingling(lang: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "no", "tingling_persistent": "yes",
                                  "inner_ankle": "yes"}, lang=lang)
    assert outcome["fits"] == ["peripheral_neuropathy", "tarsal_tunnel"]


# -- what the result says (SPEC 4.4) ---------------------------------------------------


def _section(text: str, title: str) -> str:
    """The block of an outcome text under `title` ("" if it is not there)."""
    for block in text.split("\n\n"):
        if block.startswith(title):
            return block
    return ""


async def test_outcome_text_has_every_part_and_never_self_care_advice_in_emergencies() -> None:
    calm, _ = await run_check({"radiating_pain": "yes"})
    for part in ("Self-care at home", "Why", "may fit", "What a doctor may do", "What helps now",
                 "Seek help at once", "Sources", "not a diagnosis", "footrest", "sciatica"):
        assert part in calm["text"], part
    alarm, _ = await run_check({"saddle_numbness": "yes"})
    assert "Go to an emergency department now – call 112" in alarm["text"]
    assert "What helps now" not in alarm["text"]
    svensk, _ = await run_check({"saddle_numbness": "yes"}, lang="sv")
    assert "Sök vård direkt på en akutmottagning – ring 112" in svensk["text"]
    assert "Det här kan hjälpa nu" not in svensk["text"]


async def test_no_sciatica_advice_without_pain_down_the_leg() -> None:
    outcome, _ = await run_check({"radiating_pain": "no", "diabetes_risk": "yes"})
    helps = _section(outcome["text"], "What helps now")
    assert helps and "sciatica" not in helps.lower()
    for advice in ("4 to 6 weeks", "Exercises and stretches", "Warmth on the lower back"):
        assert advice not in helps, advice
    assert "feet" in helps


@pytest.mark.parametrize("sign", ["fever_unwell", "foot_wound", "other_neuro", "sudden_onset"])
async def test_care_today_advice_cannot_hide_a_fever(sign: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "yes", sign: "yes"})
    assert outcome["level"] == "urgent"
    helps = _section(outcome["text"], "What helps now")
    assert "Until you are seen" in helps
    for masking in ("anti-inflammator", "NSAID", "hot-water", "Warmth"):
        assert masking not in helps, masking


async def test_seek_help_list_agrees_with_the_rules_and_leaves_out_the_deciding_sign() -> None:
    calm, _ = await run_check({"radiating_pain": "yes"})
    worse = _section(calm["text"], "Seek help at once if")
    assert ("spreads further or suddenly gets much worse → go to an emergency department now"
            in worse)
    assert "both legs" not in worse, "never a line that contradicts feet that both tingle"
    assert "weakness spreads up your legs → call 112" in worse
    assert "trouble breathing or swallowing → call 112" in worse
    assert "numb area gets bigger" not in worse, "no line about numbness they do not have"
    assert "part of your foot goes numb and the numbness spreads" in worse
    assert "get care today" in worse
    numb, _ = await run_check({"radiating_pain": "yes", "numbness": "yes"})
    assert "numb area gets bigger or the numbness stronger over a few days → get care today" in (
        _section(numb["text"], "Seek help at once if"))
    assert "cannot put weight" not in worse
    injured, _ = await run_check({"radiating_pain": "yes", "foot_injury": "yes"})
    assert "cannot put weight on your injured foot → get care today" in injured["text"]
    both, _ = await run_check({"both_legs": "yes"})
    worse = _section(both["text"], "Seek help at once if")
    assert "both legs" not in worse and "peeing" not in worse
    assert "cannot stand or walk → call 112" in worse
    ambulance, _ = await run_check({"cold_pale_foot": "yes"})
    assert "Seek help at once if" not in ambulance["text"]


async def test_why_reads_as_the_person_answered() -> None:
    outcome, _ = await run_check({"radiating_pain": "yes", "trend": "worse"})
    why = _section(outcome["text"], "Why")
    assert "How the symptoms are changing: Getting worse" in why
    svensk, _ = await run_check({"radiating_pain": "yes", "trend": "worse"}, lang="sv")
    assert "Hur besvären förändras: De blir sämre" in _section(svensk["text"], "Varför")


# -- the region: numbers and places of care -------------------------------------------

REGIONS = [
    ("SE", "112", "Go to an emergency department now – call 112 if you cannot get there",
     "Get medical care today – call 1177 or your health centre"),
    ("GB", "999", "Go to A&E now – call 999 if you cannot get there",
     "Get medical care today – call NHS 111 or your GP"),
    ("US", "911", "Go to the ER now – call 911 if you cannot get there",
     "Get medical care today – call your doctor or go to urgent care"),
]


@pytest.mark.parametrize(("region", "number", "emergency", "urgent"), REGIONS)
async def test_numbers_and_places_of_care_come_from_the_region(
        region: str, number: str, emergency: str, urgent: str) -> None:
    app = make_app(BACKCHECK_REGION=region)
    outcome, _ = await run_check({"cold_pale_foot": "yes"}, app=app)
    assert outcome["text"].startswith(f"🚑 Call {number} now")
    outcome, _ = await run_check({"bladder_bowel": "yes"}, app=app)
    assert outcome["text"].startswith(f"🚨 {emergency}")
    outcome, _ = await run_check({"fever_unwell": "yes"}, app=app)
    assert outcome["text"].startswith(f"⚠️ {urgent}")
    assert "health centre" not in outcome["text"] or region == "SE"


@pytest.mark.parametrize(("region", "urgent"), [
    ("SE", "Sök vård i dag – ring 1177 eller kontakta din vårdcentral"),
    ("GB", "Sök vård i dag – ring NHS 111 eller kontakta din husläkare (GP)"),
])
async def test_swedish_places_of_care_come_from_the_region(region: str, urgent: str) -> None:
    outcome, _ = await run_check({"fever_unwell": "yes"}, lang="sv",
                                 app=make_app(BACKCHECK_REGION=region))
    assert outcome["text"].startswith(f"⚠️ {urgent}")
