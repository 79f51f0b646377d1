"""`backcheck lint` proves a flow's safety invariants over every path; `backcheck graph`
draws it as a Mermaid diagram for clinicians to review.

Lint walks every path from the start to the outcome, trying every option of every
question, and checks at each step and at the end:
- the level never goes down as answers are added;
- red-flag questions come first, in order, and from `exit_at` up the next step is the result
  (or a red flag that can still raise the level, such as trouble breathing);
- the progress total ("Question 3 of about 15") never goes up, and stays within
  `max_questions`;
- every invariant: when its condition holds, the level is at least its level — and on a
  path that ends below that level, the condition must be known false, so a question the
  invariant needs can never be skipped (three-valued logic: unasked = unknown).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine import rules, triage
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.i18n import Translator, load_locales

Path_ = tuple[tuple[str, str], ...]

# What lint proves besides the flow's own invariants, in words (the review pack prints them).
STRUCTURAL = {
    "level_never_goes_down": "the level never goes down as answers are added",
    "red_flags_first": "the red-flag questions are asked first, in order",
    "red_flags_exit_at_once": "from the exit level up, the very next step is the result "
                              "(or a red flag that can still raise the level)",
    "progress_total_never_goes_up": "the progress total (\"Question n of about N\") never "
                                    "goes up during a check",
    "at_most_max_questions": "no check takes more questions than the flow's max_questions",
}


@dataclass
class Report:
    """What lint found: how many complete paths, and the shortest counterexample per problem."""

    paths: int = 0
    checks: int = 0
    violations: dict[str, tuple[str, Path_]] = field(default_factory=dict)

    def violate(self, name: str, why: str, path: Path_) -> None:
        known = self.violations.get(name)
        if known is None or len(path) < len(known[1]):
            self.violations[name] = (why, path)


def prove(flow: Flow) -> Report:
    """Explore every path of the flow and check every invariant on it."""
    report = Report()
    _walk(flow, flow.start, (), 0, report)
    return report


def _walk(flow: Flow, node_id: str, path: Path_, rank: int, report: Report) -> None:
    node = flow.nodes[node_id]
    if node.kind == "outcome":
        report.paths += 1
        _check_end(flow, path, rank, report)
        return
    for option in node.options:
        new = (*path, (node.id, option.id))
        known = triage.facts(flow, new)
        report.checks += 1
        if known.rank < rank:
            report.violate("level_never_goes_down",
                           f"the level fell from {flow.levels[rank]} to {flow.levels[known.rank]}",
                           new)
        target = triage.next_node(flow, node, option.id, known)
        if (known.rank >= flow.rank(flow.exit_at) and flow.nodes[target].kind != "outcome"
                and not _escalates(flow, target, known.rank)):
            report.violate("red_flags_exit_at_once",
                           f"level {flow.levels[known.rank]} reached but the check goes on to "
                           f"{target!r}", new)
        _check_progress(flow, node_id, path, target, new, report)
        _walk(flow, target, new, known.rank, report)


def _escalates(flow: Flow, node_id: str, rank: int) -> bool:
    """Whether a red-flag question can still raise the level above `rank` (e.g. trouble
    breathing after weakness that spreads): only such a question may follow `exit_at`."""
    return node_id in flow.red_flags and any(
        flow.rank(r.level) > rank and r.cond is not None and node_id in r.cond.questions()
        for r in flow.rules)


def _check_progress(flow: Flow, node_id: str, path: Path_, target: str, new: Path_,
                    report: Report) -> None:
    """The "Question n of about N" total never goes up, and no check is too long."""
    if flow.nodes[node_id].kind != "question" or flow.nodes[target].kind != "question":
        return
    before = triage.progress(flow, node_id, path)
    after = triage.progress(flow, target, new)
    if after[1] > before[1]:
        report.violate("progress_total_never_goes_up",
                       f"the total went up from {before[1]} to {after[1]}", new)
    if flow.max_questions and after[1] > flow.max_questions:
        report.violate("at_most_max_questions",
                       f"a check can take {after[1]} questions, more than {flow.max_questions}",
                       new)


def _check_end(flow: Flow, path: Path_, rank: int, report: Report) -> None:
    asked = [q for q, _ in path if flow.nodes[q].kind == "question"]
    flags = [q for q in asked if q in flow.red_flags]
    in_order = [q for q in flow.red_flags if q in flags]
    if asked[: len(flags)] != flags or flags != in_order:
        report.violate("red_flags_first", f"questions were asked in the order {asked}", path)
    unknown = triage.facts(flow, path, closed=False)
    opened = rules.Facts(unknown.answers, unknown.flags, rank, flow.ranks, closed=False)
    for inv in flow.invariants:
        if rank >= flow.rank(inv.level):
            continue
        truth = inv.cond.truth(opened)
        if truth is True:
            report.violate(inv.name, f"ends at {flow.levels[rank]}, below {inv.level}", path)
        elif truth is None:
            missing = sorted(inv.cond.questions() - set(unknown.answers))
            report.violate(inv.name, f"ends at {flow.levels[rank]} without asking "
                           f"{', '.join(missing)}", path)


def format_path(path: Path_) -> str:
    """A counterexample as `question=answer → …`."""
    return " → ".join(f"{q}={a}" for q, a in path) or "(start)"


def _lint(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    flow = load_flow(Path(args.flow), load_locales(LOCALES_DIR))
    report = prove(flow)
    seconds = time.perf_counter() - started
    for name, (why, path) in sorted(report.violations.items()):
        print(f"VIOLATED {name}: {why}\n  shortest counterexample: {format_path(path)}")
    status = "OK" if not report.violations else f"{len(report.violations)} violation(s)"
    print(f"backcheck lint: {args.flow}: {status} — {len(flow.invariants)} invariants and "
          f"{len(STRUCTURAL)} structural rules checked over {report.paths} paths "
          f"({report.checks} steps) in {seconds:.2f} s")
    return 0 if not report.violations else 1


def mermaid(flow: Flow, tr: Translator) -> str:
    """The flow as a Mermaid flowchart, each question with its short English wording."""
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        words = tr.t(node.short) if node.short else " → ".join(reversed(flow.levels))
        label = f"<b>{node.id}</b><br/>{words}".replace('"', "#quot;")
        shape = ('(["', '"])') if node.kind == "outcome" else ('["', '"]')
        lines.append(f"  {node.id}{shape[0]}{label}{shape[1]}")
        if node.id in flow.red_flags:
            lines.append(f"  class {node.id} redflag")
    for node in flow.nodes.values():
        for option in node.options:
            for t in option.next:
                lines.append(f'  {node.id} -- "{option.id}" --> {t.goto}')
        for t in node.next:
            text = "otherwise" if t.cond is None and len(node.next) > 1 else describe(t.cond)
            edge = f' -- "{text}" -->' if text else " -->"
            lines.append(f"  {node.id}{edge} {t.goto}")
    lines.append("  classDef redflag fill:#fde2e2,stroke:#c0392b")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Phrasing:
    """How `describe` words a condition's parts: short for a diagram edge (the default),
    or as sentences for a clinician (bot/review)."""

    answer: Callable[[rules.Answer], str] = lambda c: (
        f"{c.question} = {' / '.join(sorted(c.options))}")
    answered: str = "{} answered"
    level: str = "level ≥ {}"
    flag: str = "flag {}"
    bracket_top: bool = True  # "(a or b)" at the top level too


DIAGRAM = Phrasing()


def describe(cond: rules.Condition | None, phrasing: Phrasing = DIAGRAM,
             top: bool = True) -> str:
    """A condition in words: by default short enough for a diagram edge."""
    if cond is None:
        return ""
    if isinstance(cond, rules.Answer):
        return phrasing.answer(cond)
    if isinstance(cond, rules.Any_ | rules.All_):
        joiner = " or " if isinstance(cond, rules.Any_) else " and "
        text = joiner.join(describe(c, phrasing, top=False) for c in cond.items)
        return text if top and not phrasing.bracket_top else f"({text})"
    if isinstance(cond, rules.Not_):
        return f"not {describe(cond.item, phrasing, top=False)}"
    if isinstance(cond, rules.LevelAtLeast):
        return phrasing.level.format(cond.level)
    if isinstance(cond, rules.Answered):
        return phrasing.answered.format(cond.question)
    if isinstance(cond, rules.Flag):
        return phrasing.flag.format(cond.name)
    return "?"


def _graph(args: argparse.Namespace) -> int:
    locales = load_locales(LOCALES_DIR)
    flow = load_flow(Path(args.flow), locales)
    sys.stdout.write(mermaid(flow, locales.translator("en")))
    return 0


def register(sub: Any) -> None:
    """Add `backcheck lint` and `backcheck graph`."""
    p = sub.add_parser(
        "lint", help="validate a flow and prove its safety invariants",
        description="Validate a flow file and prove its safety invariants over every path "
                    "through it (red flags first, the level never goes down, at most "
                    "max_questions questions...). Exit code 1 and the shortest "
                    "counterexample when one does not hold.")
    p.add_argument("flow", nargs="?", default=str(DEFAULT_FLOW),
                   help="the flow YAML file (default: the shipped flows/back_pain.yaml)")
    p.set_defaults(handler=_lint)
    g = sub.add_parser(
        "graph", help="print a flow as a Mermaid diagram",
        description="Print a flow as a Mermaid flowchart on stdout, red flags marked "
                    "(make graph writes flows/back_pain.mmd).")
    g.add_argument("flow", nargs="?", default=str(DEFAULT_FLOW),
                   help="the flow YAML file (default: the shipped flows/back_pain.yaml)")
    g.set_defaults(handler=_graph)
