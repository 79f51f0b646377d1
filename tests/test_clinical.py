"""Clinical scenarios derived from SPEC section 4, in English and Swedish.
The level, the reasons and the "may fit" list must never depend on the language."""

from __future__ import annotations

import pytest

from tests.support import run_check

LANGS = ["en", "sv"]

RED_FLAGS = [
    ("cold_pale_foot", "yes", "ambulance", "acute_limb_ischaemia"),
    ("cold_pale_foot", "unsure", "ambulance", "acute_limb_ischaemia"),
    ("severe_weakness", "yes", "ambulance", "neurological"),
    ("severe_weakness", "unsure", "ambulance", "neurological"),
    ("bladder_bowel", "yes", "emergency", "cauda_equina"),
    ("bladder_bowel", "unsure", "emergency", "cauda_equina"),
    ("saddle_numbness", "yes", "emergency", "cauda_equina"),
    ("saddle_numbness", "unsure", "emergency", "cauda_equina"),
    ("both_legs", "yes", "emergency", "cauda_equina"),
    ("weakness_worsening", "yes", "emergency", "sciatica"),
    ("weakness_worsening", "unsure", "emergency", "sciatica"),
    ("major_injury", "yes", "emergency", "serious_spinal_condition"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("question", "answer", "level", "fit"), RED_FLAGS)
async def test_each_red_flag_ends_the_check_at_once(question: str, answer: str, level: str,
                                                   fit: str, lang: str) -> None:
    outcome, asked = await run_check({question: answer}, lang=lang)
    assert outcome["level"] == level
    assert outcome["why"] == [question]
    assert fit in outcome["fits"]
    assert asked[-1] == question, "a red flag must stop the check immediately"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("question", ["fever_unwell", "cancer_history", "foot_wound",
                                      "sudden_onset", "other_neuro"])
async def test_get_care_today_signs(question: str, lang: str) -> None:
    outcome, _ = await run_check({question: "yes"}, lang=lang)
    assert outcome["level"] == "urgent"
    assert question in outcome["why"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sign", [{"numbness_weakness": "yes"}])
async def test_cancer_with_new_numbness_or_weakness_is_an_emergency(sign: dict[str, str],
                                                                    lang: str) -> None:
    outcome, _ = await run_check({"cancer_history": "yes", **sign}, lang=lang)
    assert outcome["level"] == "emergency"
    assert outcome["why"] == ["cancer_history", "numbness_weakness"]
    assert "serious_spinal_condition" in outcome["fits"]


@pytest.mark.parametrize("lang", LANGS)
async def test_cancer_without_nerve_signs_is_get_care_today(lang: str) -> None:
    outcome, _ = await run_check({"cancer_history": "yes"}, lang=lang)
    assert outcome["level"] == "urgent"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("duration", ["under_1_week", "1_to_6_weeks"])
async def test_short_improving_sciatica_is_self_care(duration: str, lang: str) -> None:
    outcome, asked = await run_check({"radiating_pain": "yes", "duration": duration,
                                      "not_improving": "no"}, lang=lang)
    assert outcome["level"] == "self_care"
    assert outcome["fits"] == ["sciatica"]
    assert "duration" in outcome["why"]
    assert len(asked) <= 20


@pytest.mark.parametrize("lang", LANGS)
async def test_over_six_weeks_needs_an_appointment(lang: str) -> None:
    outcome, asked = await run_check({"radiating_pain": "yes", "duration": "over_6_weeks"},
                                     lang=lang)
    assert outcome["level"] == "appointment"
    assert outcome["why"] == ["duration"]
    assert 10 <= len(asked) <= 15


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("question", ["numbness_weakness", "not_improving", "diabetes_risk",
                                      "circulation_signs"])
async def test_checklist_signs_need_an_appointment(question: str, lang: str) -> None:
    outcome, _ = await run_check({question: "yes"}, lang=lang)
    assert outcome["level"] == "appointment"
    assert question in outcome["why"]


@pytest.mark.parametrize("lang", LANGS)
async def test_neuropathy_pattern(lang: str) -> None:
    outcome, _ = await run_check({"radiating_pain": "no", "tingling_persistent": "yes",
                                  "diabetes_risk": "yes", "duration": "over_6_weeks"}, lang=lang)
    assert outcome["level"] == "appointment"
    assert outcome["fits"] == ["peripheral_neuropathy"]


@pytest.mark.parametrize("lang", LANGS)
async def test_peripheral_artery_disease_pattern(lang: str) -> None:
    outcome, _ = await run_check({"circulation_signs": "yes"}, lang=lang)
    assert outcome["level"] == "appointment"
    assert "peripheral_artery_disease" in outcome["fits"]
    worse, _ = await run_check({"circulation_signs": "yes", "foot_wound": "yes"}, lang=lang)
    assert worse["level"] == "urgent"


@pytest.mark.parametrize("lang", LANGS)
async def test_tarsal_tunnel_and_foot_injury_shape_the_list(lang: str) -> None:
    outcome, _ = await run_check({"tingling_persistent": "yes", "inner_ankle": "yes",
                                  "foot_injury": "yes"}, lang=lang)
    assert outcome["fits"] == ["tarsal_tunnel", "foot_injury"]
    assert outcome["level"] == "self_care"


async def test_outcome_text_has_every_part_and_never_self_care_advice_in_emergencies() -> None:
    calm, _ = await run_check({"radiating_pain": "yes", "long_sitting": "yes"})
    for part in ("Self-care at home", "Why", "may fit", "What a doctor may do", "What helps now",
                 "Seek help at once", "Sources", "not a diagnosis", "footrest"):
        assert part in calm["text"], part
    alarm, _ = await run_check({"saddle_numbness": "yes"})
    assert "Go to an emergency department now – call 112" in alarm["text"]
    assert "What helps now" not in alarm["text"]
    svensk, _ = await run_check({"saddle_numbness": "yes"}, lang="sv")
    assert "Sök vård direkt på en akutmottagning – ring 112" in svensk["text"]
    assert "Det här hjälper nu" not in svensk["text"]


@pytest.mark.parametrize(("region", "number"), [("SE", "112"), ("GB", "999"), ("US", "911")])
async def test_phone_numbers_come_from_the_region(region: str, number: str) -> None:
    from tests.support import make_app

    outcome, _ = await run_check({"cold_pale_foot": "yes"},
                                 app=make_app(BACKCHECK_REGION=region))
    assert outcome["text"].startswith(f"🚑 Call {number} now")
