"""Typed answers, as people type them: every question's labels in both languages, with
other dashes, apostrophes, case and spacing, and the start (or the last words) of a
label. Generated from the shipped flow and locales, so it follows any change of wording;
and never a guess between two options."""

from __future__ import annotations

import json

import pytest

from bot.engine.flow import Node
from bot.engine.machine import match_answer
from bot.i18n import normalize
from tests.support import TestBot, pick, shipped

FLOW, LOCALES = shipped()
QUESTIONS = [n for n in FLOW.nodes.values() if n.kind == "question" and n.options]
DASHES = "-–—‐"
APOSTROPHES = "'’"


def labels(node: Node) -> list[tuple[str, str, str]]:
    """(language, option id, label as shown) for every option of `node`."""
    return [(lang, o.id, LOCALES.translator(lang).t(o.label))
            for lang in LOCALES.langs for o in node.options]


def typed_forms(label: str) -> set[str]:
    """How a person may type a label: other case, spaces, every dash and apostrophe."""
    forms = {label.upper(), label.lower(), f"  {label.replace(' ', '   ')} "}
    for dash in DASHES:
        forms.add("".join(dash if c in DASHES else c for c in label))
    for mark in APOSTROPHES:
        forms.add("".join(mark if c in APOSTROPHES else c for c in label))
    return forms


def others(node: Node, option: str) -> list[str]:
    """The normalized labels of the node's other options, in every language."""
    return [normalize(text) for _, oid, text in labels(node) if oid != option]


def exact(node: Node) -> set[str]:
    """What answers an option of `node` on its own: labels, ids and yes/no/unsure words."""
    found = {normalize(text) for _, _, text in labels(node)} | {o.id for o in node.options}
    for option in node.options:
        for ws in LOCALES.words_everywhere(f"words.{option.id}").values():
            found |= {normalize(w) for w in ws}
    return found


def starts(label: str) -> list[str]:
    """The label's first whole words, shorter than the label (a hyphen parts words)."""
    words = normalize(label).replace("-", " ").split()
    return [" ".join(words[:k]) for k in range(1, len(words))]


CASES = [(n.id, lang, oid, text) for n in QUESTIONS for lang, oid, text in labels(n)]


@pytest.mark.parametrize(("node_id", "lang", "option", "label"), CASES)
def test_every_label_is_understood_however_it_is_typed(node_id: str, lang: str, option: str,
                                                       label: str) -> None:
    node = FLOW.nodes[node_id]
    for typed in typed_forms(label):
        assert match_answer(typed, node, LOCALES) == option, (lang, typed)


@pytest.mark.parametrize(("node_id", "lang", "option", "label"), CASES)
def test_the_start_of_a_label_answers_only_when_no_other_label_starts_so(
        node_id: str, lang: str, option: str, label: str) -> None:
    node = FLOW.nodes[node_id]
    for start in starts(label):
        if start.isdigit() or start in exact(node):
            continue  # the number of an answer, or a whole answer of its own
        shared = any(o == start or o.startswith(f"{start} ")
                     for o in (x.replace("-", " ") for x in others(node, option)))
        assert match_answer(start, node, LOCALES) == (None if shared else option), (lang, start)


def test_the_examples_people_typed() -> None:
    duration, trend = FLOW.nodes["duration"], FLOW.nodes["trend"]
    assert match_answer("1-6 veckor", duration, LOCALES) == "1_to_6_weeks"
    assert match_answer("1 - 6 veckor", duration, LOCALES) == "1_to_6_weeks"
    assert match_answer("ungefär likadana", trend, LOCALES) == "same"
    assert match_answer("Ungefär  likadana!", trend, LOCALES) == "same"
    assert match_answer("about the", trend, LOCALES) == "same"
    assert match_answer("1 to 6", duration, LOCALES) == "1_to_6_weeks"


@pytest.mark.parametrize(("node_id", "typed"), [
    ("trend", "de"), ("trend", "de blir"), ("trend", "getting"), ("trend", "bättre"),
    ("duration", "6 weeks"), ("duration", "6 veckor"), ("duration", "weeks"),
    ("cold_pale_foot", "sure"), ("cold_pale_foot", "inte"), ("cold_pale_foot", "yes no"),
])
def test_words_that_fit_two_options_or_too_little_are_no_answer(node_id: str,
                                                                typed: str) -> None:
    assert match_answer(typed, FLOW.nodes[node_id], LOCALES) is None


@pytest.mark.parametrize(("lang", "question", "typed"), [
    ("sv", "duration", "1-6 veckor"), ("sv", "trend", "ungefär likadana"),
    ("en", "duration", "1 TO 6 WEEKS"), ("en", "trend", "about the"),
])
async def test_typed_variants_through_the_terminal(lang: str, question: str, typed: str) -> None:
    bot = TestBot(lang=lang, json_mode=True)
    await bot.start()
    asked = False
    for _ in range(40):
        message = json.loads(bot.pop_all()[-1])
        if message["type"] == "outcome":
            break
        if message["id"] == question and not asked:
            asked = True
            await bot.push(json.dumps({"text": typed}))
            after = json.loads(bot.pop_all()[-1])
            assert after.get("id") != question, after  # understood at once, not asked again
            bot.outbox.append(json.dumps(after))
        else:
            await bot.push(json.dumps({"answer": pick(message["id"], {})}))
    assert asked
