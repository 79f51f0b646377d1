"""The flow model: plain frozen dataclasses built by the loader and read by the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from bot.engine.care import CarePlace
from bot.engine.rules import Condition

NodeKind = Literal["question", "info", "outcome"]


@dataclass(frozen=True)
class Option:
    """One answer to a question. `label` is a locale key; `next` overrides the node's."""

    id: str
    label: str
    flags: tuple[str, ...] = ()
    next: tuple[Transition, ...] = ()


@dataclass(frozen=True)
class Transition:
    """Go to `goto` when `cond` holds (None: always)."""

    goto: str
    cond: Condition | None = None
    line: int | None = None


@dataclass(frozen=True)
class Node:
    """A question, an info message with "continue", or the outcome."""

    id: str
    kind: NodeKind
    text: str = ""  # locale key of the question or message
    short: str = ""  # locale key of a short form, for "why" and the doctor's summary
    options: tuple[Option, ...] = ()
    next: tuple[Transition, ...] = ()
    line: int | None = None

    @cached_property
    def _by_id(self) -> dict[str, Option]:
        return {o.id: o for o in self.options}

    def option(self, option_id: str) -> Option | None:
        """The option with this id, if the node has it."""
        return self._by_id.get(option_id)


@dataclass(frozen=True)
class Rule:
    """When `cond` holds, the level is at least `level`; `why` names the deciding questions."""

    level: str
    cond: Condition | None
    why: tuple[str, ...]
    line: int | None = None
    source: str = ""  # the guidance the rule comes from (NICE CKS sciatica, GIRFT, ...)


@dataclass(frozen=True)
class Fit:
    """A condition the symptoms may fit (never "you have") and when to mention it."""

    id: str
    cond: Condition
    line: int | None = None


@dataclass(frozen=True)
class SafetyNet:
    """One "seek help at once if" line: shown when the result is below `level` (so the sign
    that decided the result is never repeated) and `cond` holds (None: always)."""

    key: str
    level: str
    cond: Condition | None = None
    line: int | None = None


@dataclass(frozen=True)
class Invariant:
    """A safety property lint proves over every path: when `cond`, level >= `level`."""

    name: str
    cond: Condition
    level: str
    line: int | None = None


@dataclass(frozen=True)
class Flow:
    """A whole validated flow."""

    id: str
    path: str
    start: str
    levels: tuple[str, ...]  # least urgent first
    exit_at: str  # from this level on, the next node must be the outcome
    red_flags: tuple[str, ...]  # asked first, in this order
    nodes: dict[str, Node]
    rules: tuple[Rule, ...]
    fits: tuple[Fit, ...]
    invariants: tuple[Invariant, ...]
    ranks: dict[str, int] = field(default_factory=dict)
    # test key and the fits it is for (None: all)
    tests: tuple[tuple[str, frozenset[str] | None], ...] = ()
    helps: tuple[tuple[str, Condition | None], ...] = ()  # what helps now, and when
    followup: tuple[str, ...] = ()  # levels after which a check-in can be booked
    worse: tuple[SafetyNet, ...] = ()  # "seek help at once if", most urgent first
    max_questions: int = 0  # no check may take more questions than this (0: no limit)
    care: tuple[CarePlace, ...] = ()  # the workplace's own places (BACKCHECK_CARE_FILE)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def rank(self, level: str) -> int:
        """0 for the least urgent level, rising with urgency."""
        return self.ranks[level]

    def questions(self) -> list[Node]:
        """Every question node, in file order."""
        return [n for n in self.nodes.values() if n.kind == "question"]
