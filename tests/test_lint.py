"""`backcheck lint` proves the invariants over every path, and shows the shortest
counterexample when a flow is unsafe; `backcheck graph` draws the flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "flows"


def test_the_shipped_flow_is_proven_safe_and_the_path_count_is_printed(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"OK — (\d+) invariants .* over (\d+) paths", out)
    assert found, out
    assert int(found.group(1)) >= 20 and int(found.group(2)) > 100


@pytest.mark.parametrize(
    ("fixture", "violation", "counterexample"),
    [
        ("never_asks.yaml", "severe_weakness_is_emergency: ends at self_care without asking "
         "severe_weakness", "cold_pale_foot=unsure"),
        ("skips_red_flag.yaml", "second_is_emergency: ends at self_care, below emergency",
         "cold_pale_foot=no → note=continue → severe_weakness=yes"),
        ("unsafe_exit.yaml", "red_flags_exit_at_once", "cold_pale_foot=yes"),
        ("too_many_after_exit.yaml", "at_most_after_exit_max",
         "cold_pale_foot=yes → bladder_bowel=yes"),
        ("ambulance_goes_on.yaml", "ambulance_ends_at_once", "cold_pale_foot=yes"),
    ],
)
def test_a_violation_prints_the_shortest_counterexample(
        fixture: str, violation: str, counterexample: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(FIXTURES / fixture)]) == 1
    out = capsys.readouterr().out
    assert f"VIOLATED {violation}" in out
    assert f"shortest counterexample: {counterexample}\n" in out


def test_an_invalid_flow_is_an_error_naming_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(FIXTURES / "cycle.yaml")]) == 2
    assert "cycle.yaml:19 (node 'severe_weakness'): cycle" in capsys.readouterr().err


def test_graph_is_mermaid_with_every_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD\n")
    for qid in ("cold_pale_foot", "cancer_history", "duration", "long_sitting"):
        assert f"\n  {qid}[" in out
    assert "cancer_history -- \"cancer_history = yes\" --> numbness" in out
    assert ('spreading_weakness -- "spreading_weakness = unsure / yes" --> breathing_swallowing'
            in out)
    committed = (Path(__file__).parents[1] / "flows" / "back_pain.mmd").read_text(encoding="utf-8")
    assert committed == out, "flows/back_pain.mmd is stale: run `make graph`"


def test_the_architecture_page_shows_the_current_diagram() -> None:
    root = Path(__file__).parents[1]
    diagram = (root / "flows" / "back_pain.mmd").read_text(encoding="utf-8")
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + diagram + "```" in page
