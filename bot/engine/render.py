"""Turning engine state into words: questions, the outcome, the doctor's summary, the FAQ.
Every sentence comes from the locales; this module only chooses and arranges them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine import care, triage
from bot.engine.flow import Flow, Node
from bot.engine.rules import holds
from bot.i18n import Translator
from bot.types import Button, Outcome, Reply, ReplyKind

OUTCOME_BUTTONS = ("summary", "restart", "faq")
FAQ_ITEMS = 5


def question(flow: Flow, tr: Translator, node: Node, answers: triage.Answers,
             token: str, *, lead: str = "") -> Reply:
    """A question (or info message) with its options as buttons and a progress line."""
    prompt = tr.t(node.text)
    text = prompt
    progress = None
    if node.kind == "question":
        progress = triage.progress(flow, node.id, answers)
        text = tr.t("progress", n=progress[0], total=progress[1]) + "\n\n" + prompt
    if lead:
        text = lead + "\n\n" + text
    buttons = tuple(Button("answer", o.id, tr.t(o.label)) for o in node.options)
    kind: ReplyKind = "info" if node.kind == "info" else "question"
    return Reply(kind, text, buttons, node.id, progress, token, prompt=prompt, lead=lead)


def answered(tr: Translator, node: Node, option_id: str) -> Reply:
    """The question restated with the chosen answer, for editing the original message."""
    option = node.option(option_id)
    label = tr.t(option.label) if option else option_id
    return Reply("answered", tr.t("answered", question=tr.t(node.text), answer=label),
                 node=node.id)


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def outcome(flow: Flow, tr: Translator, answers: triage.Answers, token: str,
            followup_days: float = 7) -> Reply:
    """The full result: headline, why, may fit, tests, what helps, when to act, sources."""
    result = triage.outcome(flow, answers)
    known = triage.facts(flow, answers)
    level = result.level
    sections = [
        f"{tr.t(f'level.{level}.icon')} {tr.t(f'level.{level}.headline')}\n\n"
        f"{tr.t(f'level.{level}.advice')}",
        tr.t("outcome.why_title") + "\n" + _bullets(
            [_answer_line(flow, tr, q, dict(answers)[q]) for q in result.why]
        ),
        tr.t("outcome.fits_title") + "\n" + (
            _bullets([f"{tr.t(f'fit.{f}.name')}: {tr.t(f'fit.{f}.about')}" for f in result.fits])
            if result.fits else tr.t("outcome.no_fits")
        ),
        tr.t("outcome.tests_title") + "\n" + _bullets(
            [tr.t(key) for key, fits in flow.tests if fits is None or fits & set(result.fits)]
        ),
    ]
    if flow.rank(level) < flow.rank(flow.exit_at):
        helps = [tr.t(key) for key, cond in flow.helps if holds(cond, known)]
        if helps:
            sections.append(tr.t("outcome.helps_title") + "\n" + _bullets(helps))
    worse = safety_net(flow, tr, answers)
    if worse:
        sections.append(worse)
    places = where_to_go(flow, tr, level)
    if places:
        sections.append(places)
    sections += [
        tr.t("outcome.sources_title") + "\n" + _bullets(tr.words("sources")),
        tr.t("outcome.not_diagnosis"),
    ]
    buttons = tuple(Button("command", c, tr.t(f"button.{c}")) for c in OUTCOME_BUTTONS)
    if level in flow.followup:
        days = f"{followup_days:g}"
        buttons += (Button("command", "followup", tr.t("button.followup", days=days)),)
    return Reply("outcome", "\n\n".join(sections), buttons, token=token, sections=tuple(sections),
                 outcome=Outcome(result.level, result.fits, result.why), prompt=sections[0])


def safety_net(flow: Flow, tr: Translator, answers: triage.Answers = ()) -> str:
    """"Seek help at once if", for someone at the level these answers call for: only the
    signs that would make it more urgent, so the sign that decided it is not repeated
    ("" when nothing is more urgent)."""
    known = triage.facts(flow, answers)
    lines = [tr.t(net.key) for net in flow.worse
             if flow.rank(net.level) > known.rank and holds(net.cond, known)]
    return tr.t("outcome.worse_title") + "\n" + _bullets(lines) if lines else ""


def where_to_go(flow: Flow, tr: Translator, level: str) -> str:
    """"Where to go": the workplace's own places of care (BACKCHECK_CARE_FILE) that this
    level's result shows, in the person's language ("" when none; never from the flow's
    exit level up, where only public emergency care is shown)."""
    if flow.rank(level) >= flow.rank(flow.exit_at):
        return ""
    lines = []
    for place in care.shown_at(flow.care, level):
        reach = [tr.t("care.phone", phone=place.phone) if place.phone else "",
                 place.hours_in(tr.lang), place.url]
        lines.append(" – ".join([place.name_in(tr.lang), *filter(None, reach)]))
    return tr.t("care.title") + "\n" + _bullets(lines) if lines else ""


def _answer_line(flow: Flow, tr: Translator, qid: str, option_id: str) -> str:
    node = flow.nodes[qid]
    option = node.option(option_id)
    return f"{tr.t(node.short)}: {tr.t(option.label) if option else option_id}"


def summary(flow: Flow, tr: Translator, answers: triage.Answers, day: str, done: bool) -> str:
    """The answers as plain text, dated, for the person to show their doctor."""
    lines = [tr.t("summary.title", date=day), ""]
    lines += [f"- {_answer_line(flow, tr, q, a)}" for q, a in answers
              if flow.nodes[q].kind == "question"]
    if done:
        level = triage.level_of(flow, answers)
        lines += ["", tr.t("summary.result", headline=tr.t(f"level.{level}.headline"))]
    else:
        lines += ["", tr.t("summary.unfinished")]
    lines += ["", tr.t("summary.footer")]
    return "\n".join(lines)


def faq(tr: Translator) -> str:
    """The article's questions and answers."""
    parts = [tr.t("faq.title")]
    parts += [f"{tr.t(f'faq.q{i}')}\n{tr.t(f'faq.a{i}')}" for i in range(1, FAQ_ITEMS + 1)]
    return "\n\n".join(parts)
