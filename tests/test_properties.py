"""Property test: random answers, typed noise, back, restart and language switches never
break the safety invariants, never lose the place, and always get a reply."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import rules, triage
from bot.engine.flow import Flow
from bot.stores.base import SESSION
from bot.types import Incoming, SessionKey
from tests.support import make_app

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 3)),
        st.tuples(st.just("text"), st.sampled_from(["ja", "nej", "2", "vet inte", "banana", "",
                                                     "Yes", "1", "3", "🦶" * 40])),
        st.tuples(st.just("command"), st.sampled_from(["back", "restart", "language", "help",
                                                        "summary"])),
        st.tuples(st.just("stale"), st.integers(0, 2)),
    ),
    min_size=1, max_size=60,
)


def replay(flow: Flow, answers: list[tuple[str, str]]) -> str:
    """Where these answers lead from the start, checking each was the question asked."""
    node_id = flow.start
    for i, (qid, option) in enumerate(answers):
        assert qid == node_id, f"answer {i} was for {qid}, but the flow asks {node_id}"
        known = triage.facts(flow, answers[: i + 1])
        node_id = triage.next_node(flow, flow.nodes[qid], option, known)
    return node_id


def check_invariants(flow: Flow, answers: list[tuple[str, str]], level: str) -> None:
    known = triage.facts(flow, answers)
    for inv in flow.invariants:
        if inv.cond.truth(known):
            assert flow.rank(level) >= flow.rank(inv.level), (inv.name, answers)
    ranks = [triage.facts(flow, answers[: i + 1]).rank for i in range(len(answers))]
    assert ranks == sorted(ranks), "the level went down during the check"


async def play(actions: list[tuple[str, int | str]]) -> None:
    app = make_app()
    flow = app.flow
    key = SessionKey("prop", "w", "c", "u")
    replies = await app.handle(Incoming(key, "start"))
    tokens = [replies[-1].token]
    for kind, value in actions:
        last = next(r for r in reversed(replies) if r.kind != "answered")
        if kind == "answer":
            options = [b.value for b in last.buttons]
            choice = options[int(value) % len(options)] if options else "yes"
            bkind = "command" if last.buttons and last.buttons[0].kind == "command" else "answer"
            event = Incoming(key, bkind, choice, last.token)  # type: ignore[arg-type]
        elif kind == "stale":
            event = Incoming(key, "answer", "yes", tokens[int(value) % len(tokens)])
        else:
            event = Incoming(key, kind, str(value))  # type: ignore[arg-type]
        replies = await app.handle(event)
        assert replies, f"no reply to {event}"
        tokens.append(replies[-1].token or tokens[-1])
        record = await app.store.get(SESSION, key.id())
        assert record is not None
        answers = [tuple(a) for a in record.data["answers"]]
        assert replay(flow, answers) == record.data["node"]  # type: ignore[arg-type]
        for reply in replies:
            if reply.kind == "outcome":
                assert reply.outcome is not None
                assert record.data["done"]
                assert reply.outcome.level == triage.level_of(flow, answers)  # type: ignore[arg-type]
                check_invariants(flow, answers, reply.outcome.level)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_random_conversations_keep_every_invariant(actions: list[tuple[str, int | str]]) -> None:
    asyncio.run(play(actions))


def test_rules_are_three_valued() -> None:
    ranks = {"low": 0, "high": 1}
    cond = rules.parse({"any": [{"answer": "a", "is": "yes"}, {"answer": "b", "in": ["yes"]}]})
    open_facts = rules.Facts({"a": "no"}, frozenset(), 0, ranks, closed=False)
    assert cond.truth(open_facts) is None
    assert cond.truth(rules.Facts({"a": "no"}, frozenset(), 0, ranks)) is False
    assert cond.truth(rules.Facts({"b": "yes"}, frozenset(), 0, ranks, closed=False)) is True
    negated = rules.parse({"not": {"answer": "a", "is": "yes"}})
    assert negated.truth(open_facts) is True
