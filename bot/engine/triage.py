"""Triage: the level, the reasons and the "may fit" list, all computed from the answers.

The level is the most urgent level of any rule that holds. Rules only look at answers,
so answering more can only add rules that hold: a level never goes down as a check
goes on (lint proves it over every path).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.flow import Flow, Node, Source, Transition
from bot.engine.rules import Facts, holds, support
from bot.types import Outcome

Answers = Sequence[tuple[str, str]]


def facts(flow: Flow, answers: Answers, *, closed: bool = True) -> Facts:
    """What is known after these answers, with the level they call for. Remembered per flow
    (bounded by the flow's paths), as lint, progress and rendering ask about the same ones."""
    memo_key = ("facts", tuple(answers), closed)
    if memo_key not in flow.memo:
        flow.memo[memo_key] = _facts(flow, answers, closed)
    known: Facts = flow.memo[memo_key]
    return known


def _facts(flow: Flow, answers: Answers, closed: bool) -> Facts:
    given = dict(answers)
    flags = frozenset(
        f
        for qid, oid in given.items()
        if (node := flow.nodes.get(qid)) and (opt := node.option(oid))
        for f in opt.flags
    )
    base = Facts(given, flags, 0, flow.ranks, closed)
    rank = max((flow.rank(r.level) for r in flow.rules if holds(r.cond, base)), default=0)
    return Facts(given, flags, rank, flow.ranks, closed)


def level_of(flow: Flow, answers: Answers) -> str:
    """The level these answers call for."""
    return flow.levels[facts(flow, answers).rank]


def outcome(flow: Flow, answers: Answers) -> Outcome:
    """Level, every answer that decided it or put a condition on the "may fit" list (in the
    order asked), and what it may fit."""
    known = facts(flow, answers)
    level = flow.levels[known.rank]
    deciding = {
        q
        for r in flow.rules
        if r.level == level and holds(r.cond, known)
        for q in r.why
        if r.cond is None or q in support(r.cond, known)
    }
    listed = [f for f in flow.fits if holds(f.cond, known)]
    deciding |= {q for f in listed for q in support(f.cond, known)}
    why = tuple(q for q, _ in answers if q in deciding)
    return Outcome(level, tuple(f.id for f in listed), why)


def sources(flow: Flow, answers: Answers) -> list[Source]:
    """The sources behind this result only: its rules, its "may fit" list and the advice it
    shows; guidelines first, each group in registry order."""
    known = facts(flow, answers)
    ids = {s for r in flow.rules if r.cond is not None and holds(r.cond, known) for s in r.sources}
    if not ids:  # nothing fired: the rule for the default level speaks
        ids = {s for r in flow.rules if r.cond is None for s in r.sources}
    ids |= {s for f in flow.fits if holds(f.cond, known) for s in f.sources}
    if known.rank < flow.rank(flow.exit_at):
        ids |= {s for key, cond in flow.helps if holds(cond, known)
                for s in flow.help_sources.get(key, ())}
    chosen = [s for s in flow.sources if s.id in ids]
    return sorted(chosen, key=lambda s: s.kind != "guideline")


def can_finish(flow: Flow, node_id: str, answers: Answers) -> bool:
    """Whether "Show my result now" may end the check at `node_id`: the level has reached
    `exit_at` and no answer still to come could raise it (so skipping loses no safety)."""
    node = flow.nodes[node_id]
    rank = facts(flow, answers).rank
    return (node.kind == "question" and rank >= flow.rank(flow.exit_at)
            and highest(flow, node_id, answers) == rank)


def highest(flow: Flow, node_id: str, answers: Answers) -> int:
    """The most urgent level any way on from `node_id` can reach (remembered per flow)."""
    memo_key = ("highest", node_id, tuple(answers))
    if memo_key not in flow.memo:
        node = flow.nodes[node_id]
        top = facts(flow, answers).rank
        for option in node.options:
            path = (*answers, (node.id, option.id))
            target = next_node(flow, node, option.id, facts(flow, path))
            top = max(top, highest(flow, target, path))
        flow.memo[memo_key] = top
    found: int = flow.memo[memo_key]
    return found


def choose(transitions: Sequence[Transition], known: Facts) -> str | None:
    """The first transition whose condition holds."""
    return next((t.goto for t in transitions if holds(t.cond, known)), None)


def next_node(flow: Flow, node: Node, option_id: str, known: Facts) -> str:
    """Where the flow goes after `option_id` was chosen at `node`."""
    option = node.option(option_id)
    target = choose(option.next, known) if option and option.next else None
    target = target or choose(node.next, known)
    if target is None:  # the loader guarantees a default; this is a programming error
        raise RuntimeError(f"node {node.id!r} has no way on")
    return target


def progress(flow: Flow, node_id: str, answers: Answers) -> tuple[int, int]:
    """"Question n of about total" at `node_id`: n counts this question, and the total is
    the longest way the check can still go, so it never goes up as answers are added."""
    asked = sum(1 for q, _ in answers if flow.nodes[q].kind == "question")
    return asked + 1, asked + remaining(flow, node_id, answers)


def remaining(flow: Flow, node_id: str, answers: Answers) -> int:
    """At most how many questions are left from `node_id` (this one included). Paths repeat
    across people, so counts are remembered per flow (bounded by the flow's paths)."""
    memo_key = ("remaining", node_id, tuple(answers))
    if memo_key not in flow.memo:
        flow.memo[memo_key] = _remaining(flow, node_id, answers)
    count: int = flow.memo[memo_key]
    return count


def _remaining(flow: Flow, node_id: str, answers: Answers) -> int:
    node = flow.nodes[node_id]
    if node.kind == "outcome":
        return 0
    longest = 0
    for option in node.options:
        path = (*answers, (node.id, option.id))
        target = next_node(flow, node, option.id, facts(flow, path))
        longest = max(longest, remaining(flow, target, path))
    return longest + (node.kind == "question")
