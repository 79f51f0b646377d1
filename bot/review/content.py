"""Everything a clinician reviews, gathered from the flow, the locales and the tips.

Nothing here knows the back-pain questions: every question, rule, invariant and result
is read from the flow, and every path through it is explored (as `backcheck lint` does)
to find where each answer leads, which results can be reached and the shortest answers
that reach each one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine import lint, rules, triage
from bot.engine.flow import Flow, Node
from bot.i18n import Locales, Translator
from bot.review.hazards import HazardLog, load_hazards
from bot.review.version import Content, version_of
from bot.wellness.tips import load_tips

REGIONS = ("SE", "GB", "US")
# lint's own checks, which a hazard may name like a flow invariant
STRUCTURAL = lint.STRUCTURAL

Answers = tuple[tuple[str, str], ...]
ResultKey = tuple[str, tuple[str, ...]]  # (level, "may fit" ids)


@dataclass
class Explored:
    """What every path through the flow shows."""

    paths: int = 0
    # (question, option) -> where it leads ("node:<id>" or "level:<level>") -> shortest path
    leads: dict[tuple[str, str], dict[str, Answers]] = field(default_factory=dict)
    results: dict[ResultKey, Answers] = field(default_factory=dict)  # -> shortest path
    applies: dict[str, int] = field(default_factory=dict)  # invariant -> paths it applied on

    def keep(self, table: dict[Any, Answers], key: Any, path: Answers) -> None:
        """Remember `path` for `key` when it is the shortest seen."""
        if key not in table or len(path) < len(table[key]):
            table[key] = path


def explore(flow: Flow) -> Explored:
    """Walk every path from the start to the outcome, trying every option."""
    found = Explored()
    _walk(flow, flow.start, (), found)
    return found


def _walk(flow: Flow, node_id: str, path: Answers, found: Explored) -> None:
    node = flow.nodes[node_id]
    if node.kind == "outcome":
        _finish(flow, path, found)
        return
    for option in node.options:
        new = (*path, (node.id, option.id))
        known = triage.facts(flow, new)
        target = triage.next_node(flow, node, option.id, known)
        lead = (f"level:{flow.levels[known.rank]}" if flow.nodes[target].kind == "outcome"
                else f"node:{target}")
        found.keep(found.leads.setdefault((node.id, option.id), {}), lead, new)
        _walk(flow, target, new, found)


def _finish(flow: Flow, path: Answers, found: Explored) -> None:
    found.paths += 1
    result = triage.outcome(flow, path)
    found.keep(found.results, (result.level, result.fits), path)
    known = triage.facts(flow, path)
    for inv in flow.invariants:
        if inv.cond.truth(known) is True:
            found.applies[inv.name] = found.applies.get(inv.name, 0) + 1


@dataclass(frozen=True)
class Review:
    """The whole check, ready to print."""

    flow: Flow
    locales: Locales
    content: Content
    version: str
    tips: tuple[str, ...]
    explored: Explored
    report: lint.Report
    hazards: HazardLog

    def tr(self, lang: str, region: str = "SE") -> Translator:
        return self.locales.translator(lang, region)

    def ends(self) -> dict[str, list[str]]:
        """For each node, the levels set when it leads to the result (on some path)."""
        out: dict[str, list[str]] = {}
        for (qid, _), leads in self.explored.leads.items():
            for lead in leads:
                kind, _, level = lead.partition(":")
                if kind == "level" and level not in out.setdefault(qid, []):
                    out[qid].append(level)
        return out

    @property
    def langs(self) -> tuple[str, ...]:
        """The languages the content is written in, from its locale files."""
        return self.locales.langs

    def results(self) -> list[tuple[ResultKey, Answers]]:
        """Every reachable result, most urgent first, then by the "may fit" list."""
        order = {f.id: i for i, f in enumerate(self.flow.fits)}
        return sorted(self.explored.results.items(), key=lambda item: (
            -self.flow.rank(item[0][0]), [order[f] for f in item[0][1]]))


def gather(content: Content, hazards: Path) -> Review:
    """Load and validate the content, prove it and explore every path through it."""
    flow, locales = content.load()
    tips = load_tips(content.tips, locales) if content.tips.is_file() else ()
    names = {inv.name for inv in flow.invariants} | set(STRUCTURAL)
    return Review(flow, locales, content, version_of(content), tips, explore(flow),
                  lint.prove(flow), load_hazards(hazards, names))


def option_label(tr: Translator, node: Node, option_id: str) -> str:
    """An option's label as it reads inside a sentence ("not sure")."""
    option = node.option(option_id)
    label = tr.t(option.label) if option else option_id
    return label[:1].lower() + label[1:] if label[1:2].islower() or len(label) == 1 else label


def in_words(flow: Flow, tr: Translator, cond: rules.Condition | None) -> str:
    """A condition as a clinician reads it: "bladder_bowel is yes or not sure"."""
    if cond is None:
        return "always (whatever the answers)"

    def answer(c: rules.Answer) -> str:
        node = flow.nodes[c.question]
        chosen = [o.id for o in node.options if o.id in c.options]
        return f"{c.question} is " + " or ".join(option_label(tr, node, o) for o in chosen)

    return lint.describe(cond, lint.Phrasing(
        answer=answer, answered="{} was asked", level="the level is at least {}",
        flag="flag {} is set", bracket_top=False))
