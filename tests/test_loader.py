"""Loading fails with one clear error naming file, node and line — one fixture per error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.errors import FlowError
from bot.i18n import load_locales

FIXTURES = Path(__file__).parent / "fixtures" / "flows"


@pytest.fixture(scope="module")
def locales():  # type: ignore[no-untyped-def]
    return load_locales(LOCALES_DIR)


@pytest.mark.parametrize(
    ("fixture", "node", "line", "words"),
    [
        ("unknown_target.yaml", "cold_pale_foot", 11, "unknown target 'nowhere'"),
        ("unreachable.yaml", "orphan", 21, "unreachable node"),
        ("no_options.yaml", "severe_weakness", 16, "question without options"),
        ("cycle.yaml", "severe_weakness", 19, "cycle"),
        ("duplicate_id.yaml", "severe_weakness", 19, "duplicate id"),
        ("missing_locale_key.yaml", "note", 12, "'info.not_in_any_locale' is missing"),
        ("malformed.yaml", "", 18, "invalid YAML"),
        ("bad_condition.yaml", "cold_pale_foot", 10, "bad condition"),
        ("unknown_option.yaml", "cold_pale_foot", 10, "has no option 'maybe'"),
    ],
)
def test_each_loader_error_names_file_node_and_line(fixture: str, node: str, line: int,
                                                    words: str, locales) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FlowError) as caught:
        load_flow(FIXTURES / fixture, locales)
    message = str(caught.value)
    assert f"{fixture}:{line}" in message
    assert words in message
    if node:
        assert f"(node '{node}')" in message


def test_the_shipped_flow_and_a_minimal_flow_load(locales) -> None:  # type: ignore[no-untyped-def]
    flow = load_flow(DEFAULT_FLOW, locales)
    assert flow.start == "cold_pale_foot"
    assert flow.levels == ("self_care", "appointment", "urgent", "emergency", "ambulance")
    mini = load_flow(FIXTURES / "minimal_ok.yaml", locales)
    assert mini.nodes["note"].kind == "info"
    assert [o.id for o in mini.nodes["note"].options] == ["continue"]


def test_yes_and_no_stay_strings_in_yaml(locales) -> None:  # type: ignore[no-untyped-def]
    flow = load_flow(DEFAULT_FLOW, locales)
    assert [o.id for o in flow.nodes["bladder_bowel"].options] == ["yes", "no", "unsure"]


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, target)
    return target


def test_a_key_missing_in_swedish_is_named(tmp_path: Path) -> None:
    folder = _copy_locales(tmp_path)
    sv = folder / "sv.yaml"
    text = sv.read_text(encoding="utf-8")
    sv.write_text(text.replace('stale: "Den frågan är redan besvarad."\n', ""), encoding="utf-8")
    with pytest.raises(FlowError, match=r"sv\.yaml: locale key 'stale' is missing"):
        load_locales(folder)


def test_a_placeholder_mismatch_is_named_with_its_line(tmp_path: Path) -> None:
    folder = _copy_locales(tmp_path)
    sv = folder / "sv.yaml"
    text = sv.read_text(encoding="utf-8")
    sv.write_text(text.replace("Fråga {n} av ungefär {total}", "Fråga {n} av ungefär {antal}"),
                  encoding="utf-8")
    line = text.splitlines().index('progress: "Fråga {n} av ungefär {total}"') + 1
    with pytest.raises(FlowError) as caught:
        load_locales(folder)
    assert f"sv.yaml:{line}" in str(caught.value)
    assert "placeholder mismatch in 'progress'" in str(caught.value)
