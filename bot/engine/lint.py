"""`backcheck lint` proves a flow's safety invariants over every path; `backcheck graph`
draws it as a Mermaid diagram for clinicians to review.

Lint walks every path from the start to the outcome, trying every option of every
question, and checks at each step and at the end:
- the level never goes down as answers are added;
- red-flag questions come first, in order; at the top level (an ambulance) the next step is
  the result; from `exit_at` up only the flow's `after_exit` questions not yet asked follow
  (or a red flag that can still raise the level, such as trouble breathing), at most
  `after_exit_max` of them, and on each one "Show my result now" (`result`) is offered and
  ends the check at that level;
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
from bot.engine.machine import State, current, step
from bot.i18n import Locales, Translator, load_locales
from bot.types import Incoming, SessionKey

Path_ = tuple[tuple[str, str], ...]

# What lint proves besides the flow's own invariants, in words (the review pack prints them).
STRUCTURAL = {
    "level_never_goes_down": "the level never goes down as answers are added",
    "red_flags_first": "the red-flag questions are asked first, in order",
    "ambulance_ends_at_once": "at the most urgent level the very next step is the result",
    "red_flags_exit_at_once": "from the exit level up, only the remaining warning-sign questions "
                              "that can change the cause follow (or a red flag that can still "
                              "raise the level)",
    "at_most_after_exit_max": "no more than the flow's after_exit_max questions follow an "
                              "emergency sign",
    "result_accepted_after_exit": "on every question after an emergency sign, \"Show my result "
                                  "now\" is offered and ends the check at that level",
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


def prove(flow: Flow, locales: Locales | None = None) -> Report:
    """Explore every path of the flow and check every invariant on it. With `locales`,
    "Show my result now" is also tried through the engine on every question it is offered."""
    report = Report()
    _walk(flow, flow.start, (), 0, report, locales, 0)
    return report


def _walk(flow: Flow, node_id: str, path: Path_, rank: int, report: Report,
          locales: Locales | None, after: int) -> None:
    """`after`: questions asked since `exit_at` was reached that could not raise the level."""
    node = flow.nodes[node_id]
    if node.kind == "outcome":
        report.paths += 1
        _check_end(flow, path, rank, report)
        return
    if rank >= flow.rank(flow.exit_at) and not _escalates(flow, node_id, rank):
        after += 1
    for option in node.options:
        new = (*path, (node.id, option.id))
        known = triage.facts(flow, new)
        report.checks += 1
        if known.rank < rank:
            report.violate("level_never_goes_down",
                           f"the level fell from {flow.levels[rank]} to {flow.levels[known.rank]}",
                           new)
        target = triage.next_node(flow, node, option.id, known)
        _check_exit(flow, new, target, known.rank, report, locales, after)
        _check_progress(flow, node_id, path, target, new, report)
        _walk(flow, target, new, known.rank, report, locales, after)


def _check_exit(flow: Flow, path: Path_, target: str, rank: int, report: Report,
                locales: Locales | None, after: int) -> None:
    """After an emergency sign: which questions may follow, how many, and that each one
    can be cut short with "Show my result now" at the level already reached."""
    if rank < flow.rank(flow.exit_at) or flow.nodes[target].kind == "outcome":
        return
    level = flow.levels[rank]
    if rank == len(flow.levels) - 1:
        report.violate("ambulance_ends_at_once", f"level {level} reached but the check goes "
                       f"on to {target!r}", path)
    escalates = _escalates(flow, target, rank)
    asked = {q for q, _ in path}
    if not escalates and (target not in flow.after_exit or target in asked):
        report.violate("red_flags_exit_at_once",
                       f"level {level} reached but the check goes on to {target!r}", path)
    if flow.after_exit_max and not escalates and after + 1 > flow.after_exit_max:
        report.violate("at_most_after_exit_max", f"more than {flow.after_exit_max} questions "
                       f"follow an emergency sign (next: {target!r})", path)
    if not escalates:
        _check_result(flow, path, target, level, report, locales)


def _check_result(flow: Flow, path: Path_, target: str, level: str, report: Report,
                  locales: Locales | None) -> None:
    """"Show my result now" is allowed at `target` on this path (the engine's own test,
    `triage.can_finish`), and, tried through the engine once per question and level, it is
    offered as a button and ends the check at `level`."""
    if not triage.can_finish(flow, target, path):
        report.violate("result_accepted_after_exit", f"\"Show my result now\" is not allowed "
                       f"at {target!r}", path)
        return
    tried = ("lint_result", target, level)
    if locales is None or tried in flow.memo:
        return
    flow.memo[tried] = True
    state = State(target, path, locales.langs[0], "lint", 1)  # the engine, as a person meets it
    reply = current(flow, state, locales.translator(state.lang, "SE"))
    offered = any(b.kind == "command" and b.value == "result" for b in reply.buttons)
    key = SessionKey("lint", "", "", "")
    after, replies = step(flow, state, Incoming(key, "command", "result", state.token), locales,
                          "SE")
    ended = [r.outcome for r in replies if r.kind == "outcome" and r.outcome]
    if not offered or after is None or not after.done or not ended or ended[0].level != level:
        report.violate("result_accepted_after_exit", f"\"Show my result now\" at {target!r} "
                       f"did not end the check at {level}", path)


def _escalates(flow: Flow, node_id: str, rank: int) -> bool:
    """Whether a red-flag question can still raise the level above `rank` (e.g. trouble
    breathing after weakness that spreads): only such a question may follow `exit_at`."""
    memo_key = ("escalates", node_id, rank)
    if memo_key not in flow.memo:
        flow.memo[memo_key] = node_id in flow.red_flags and any(
            flow.rank(r.level) > rank and r.cond is not None and node_id in r.cond.questions()
            for r in flow.rules)
    found: bool = flow.memo[memo_key]
    return found


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
    locales = load_locales(LOCALES_DIR)
    flow = load_flow(Path(args.flow), locales)
    report = prove(flow, locales)
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
