"""The condition language of flow files: parsed from YAML into objects, evaluated by our
code (never eval). Three-valued, so lint can ask "could this still be true?" about
questions that were never asked.

    {answer: q, in: [a, b]}   {answer: q, is: a}   {answered: q}   {flag: f}
    {any: [c, ...]}   {all: [c, ...]}   {not: c}   {level_at_least: L}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.engine.yamlio import line_of
from bot.errors import FlowError

# Kleene logic: True, False, or None for "unknown" (the question was not asked).
Truth = bool | None


@dataclass(frozen=True)
class Facts:
    """What is known in a conversation: answers so far, flags set, the current level rank.
    `closed` says unasked questions are final (False) rather than unknown (None)."""

    answers: Mapping[str, str]
    flags: frozenset[str]
    rank: int
    ranks: Mapping[str, int]
    closed: bool = True


class Condition(Protocol):
    def truth(self, facts: Facts) -> Truth: ...

    def questions(self) -> set[str]: ...


def holds(cond: Condition | None, facts: Facts) -> bool:
    """Whether a condition (None: always) is true now; unknown counts as false."""
    return cond is None or cond.truth(facts) is True


@dataclass(frozen=True)
class Answer:
    question: str
    options: frozenset[str]

    def truth(self, facts: Facts) -> Truth:
        given = facts.answers.get(self.question)
        if given is None:
            return False if facts.closed else None
        return given in self.options

    def questions(self) -> set[str]:
        return {self.question}


@dataclass(frozen=True)
class Answered:
    question: str

    def truth(self, facts: Facts) -> Truth:
        return self.question in facts.answers

    def questions(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Flag:
    name: str

    def truth(self, facts: Facts) -> Truth:
        return self.name in facts.flags

    def questions(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class LevelAtLeast:
    level: str

    def truth(self, facts: Facts) -> Truth:
        return facts.rank >= facts.ranks[self.level]

    def questions(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Any_:
    items: tuple[Condition, ...]

    def truth(self, facts: Facts) -> Truth:
        values = [c.truth(facts) for c in self.items]
        if True in values:
            return True
        return None if None in values else False

    def questions(self) -> set[str]:
        return set().union(*(c.questions() for c in self.items))


@dataclass(frozen=True)
class All_:
    items: tuple[Condition, ...]

    def truth(self, facts: Facts) -> Truth:
        values = [c.truth(facts) for c in self.items]
        if False in values:
            return False
        return None if None in values else True

    def questions(self) -> set[str]:
        return set().union(*(c.questions() for c in self.items))


@dataclass(frozen=True)
class Not_:
    item: Condition

    def truth(self, facts: Facts) -> Truth:
        value = self.item.truth(facts)
        return None if value is None else not value

    def questions(self) -> set[str]:
        return self.item.questions()


def _names(raw: Any, where: str) -> frozenset[str]:
    if isinstance(raw, str):
        return frozenset([raw])
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return frozenset(raw)
    raise ValueError(f"{where}: expected an option id or a list of option ids, got {raw!r}")


def parse(raw: Any, *, file: str = "", node: str = "") -> Condition:
    """Build a Condition from its YAML form; a FlowError names what is wrong and where."""
    try:
        return _parse(raw)
    except ValueError as exc:
        raise FlowError(f"bad condition: {exc}", file=file, node=node, line=line_of(raw)) from None


def _parse(raw: Any) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"expected a mapping such as {{answer: q, in: [yes]}}, got {raw!r}")
    keys = set(raw)
    if keys == {"answer", "in"} or keys == {"answer", "is"}:
        if not isinstance(raw["answer"], str):
            raise ValueError(f"'answer' takes a question id, got {raw['answer']!r}")
        return Answer(raw["answer"], _names(raw.get("in", raw.get("is")), "in/is"))
    if len(keys) != 1:
        raise ValueError(f"unknown combination of keys {sorted(keys)}")
    (op, arg), = raw.items()
    if op in ("any", "all"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"'{op}' takes a non-empty list of conditions")
        items = tuple(_parse(x) for x in arg)
        return Any_(items) if op == "any" else All_(items)
    if op == "not":
        return Not_(_parse(arg))
    if isinstance(arg, str):
        if op == "answered":
            return Answered(arg)
        if op == "flag":
            return Flag(arg)
        if op == "level_at_least":
            return LevelAtLeast(arg)
    raise ValueError(f"unknown condition {op!r} "
                     "(use answer/in, answered, flag, any, all, not, level_at_least)")


def support(cond: Condition, facts: Facts) -> set[str]:
    """The questions whose answers make `cond` true: the reasons shown under "why"."""
    if isinstance(cond, Answer):
        return {cond.question} if cond.truth(facts) is True else set()
    if isinstance(cond, Any_ | All_):
        return set().union(*(support(c, facts) for c in cond.items))
    return set()
