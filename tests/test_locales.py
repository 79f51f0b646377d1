"""Every string exists in English and Swedish, with the same placeholders."""

from __future__ import annotations

from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow, required_keys
from bot.i18n import detect_lang, load_locales, placeholders


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    locales = load_locales(LOCALES_DIR)
    en, sv = locales.strings["en"], locales.strings["sv"]
    assert set(en) == set(sv)
    for key, text in en.items():
        if isinstance(text, str):
            assert placeholders(text) == placeholders(sv[key]), key  # type: ignore[arg-type]


def test_swedish_is_translated_not_copied() -> None:
    locales = load_locales(LOCALES_DIR)
    en, sv = locales.strings["en"], locales.strings["sv"]
    same = [k for k, v in en.items() if isinstance(v, str) and v == sv[k]
            and not k.startswith(("region.", "level.")) and len(v) > 12 and "{" not in v[:2]]
    assert same == [], same
    assert sv["level.urgent.headline"] == (
        "Sök vård i dag – {care_today}")
    assert sv["region.SE.care_today"] == "ring 1177 eller kontakta din vårdcentral"


def test_every_key_the_flow_needs_is_in_every_language() -> None:
    locales = load_locales(LOCALES_DIR)
    flow = load_flow(DEFAULT_FLOW, locales)
    for key in required_keys(flow):
        for lang in ("en", "sv"):
            assert key in locales.strings[lang], (lang, key)


def test_no_phone_number_is_written_into_a_sentence() -> None:
    locales = load_locales(LOCALES_DIR)
    for lang, strings in locales.strings.items():
        for key, text in strings.items():
            if key.startswith("region."):
                continue
            for number in ("112", "1177", "999", "911"):
                assert number not in str(text), (lang, key)


def test_language_detection_from_platform_hints() -> None:
    langs = ("en", "sv")
    assert detect_lang("sv-SE", langs) == "sv"
    assert detect_lang("sv", langs) == "sv"
    assert detect_lang("en_GB", langs) == "en"
    assert detect_lang("de-DE", langs) == "en"
    assert detect_lang(None, langs, "sv") == "sv"


def test_no_place_of_care_is_written_into_a_sentence() -> None:
    """"Health centre" is the Swedish place; the region names the place everywhere."""
    locales = load_locales(LOCALES_DIR)
    places = ("health centre", "vårdcentral", "akutmottagning", "A&E", "NHS", "GP", "the ER")
    for lang, strings in locales.strings.items():
        for key, text in strings.items():
            if not key.startswith("region."):
                for place in places:
                    assert place not in str(text), (lang, key, place)
