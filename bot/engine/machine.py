"""The pure step: (flow, state, what the person did) -> (new state, replies).

No I/O happens here: the App loads the state before and saves it after. A `None` state
means the conversation is over and its record should be deleted (stop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from bot import commands
from bot.engine import render, triage
from bot.engine.flow import Flow, Node
from bot.i18n import Locales, Translator, normalize, words
from bot.types import Button, Incoming, Reply

Step = tuple["State | None", list[Reply]]
SAID = 16  # typed messages remembered, so a platform's redelivery is not applied twice


@dataclass(frozen=True)
class State:
    """One conversation: where it is, what was answered, in which language.
    `turn` rises with every change, so a button from an earlier turn is recognised."""

    node: str
    answers: tuple[tuple[str, str], ...]
    lang: str
    nonce: str
    turn: int = 0
    done: bool = False
    day: str = ""
    said: tuple[str, ...] = ()  # the ids of the last typed messages applied (SAID of them)
    counted: bool = False  # its result is in the weekly totals (once per conversation)

    @property
    def token(self) -> str:
        """What buttons carry to prove they belong to this very turn."""
        return f"{self.nonce}.{self.turn}"

    @classmethod
    def new(cls, flow: Flow, lang: str, nonce: str, day: str | None = None) -> State:
        return cls(flow.start, (), lang, nonce, 0, False, day or dt.date.today().isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "answers": [list(a) for a in self.answers], "lang": self.lang,
                "nonce": self.nonce, "turn": self.turn, "done": self.done, "day": self.day,
                "said": list(self.said), "counted": self.counted}

    @classmethod
    def from_dict(cls, data: dict[str, Any], flow: Flow) -> State:
        """Rebuild a stored state; ValueError when it does not fit this flow."""
        try:
            answers = tuple((str(q), str(a)) for q, a in data["answers"])
            state = cls(str(data["node"]), answers, str(data["lang"]), str(data["nonce"]),
                        int(data["turn"]), bool(data["done"]), str(data.get("day", "")),
                        tuple(str(m) for m in data.get("said", ())),
                        bool(data.get("counted", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"stored session is malformed: {type(exc).__name__}") from None
        if state.node not in flow.nodes or any(
            q not in flow.nodes or flow.nodes[q].option(a) is None for q, a in answers
        ):
            raise ValueError("stored session does not fit the current flow")
        return state


def step(flow: Flow, state: State, event: Incoming, locales: Locales, region: str,
         followup_days: float = 7) -> Step:
    """Apply one event to one conversation. `followup_days` only words the check-in offer.
    A typed message the platform delivers again (a restart before it was acknowledged) is
    applied once: the second time it would answer the next question, which nobody saw."""
    tr = locales.translator(state.lang, region)
    if event.message and event.message in state.said:
        return state, [current(flow, state, tr)]
    after, replies = _step(flow, state, event, locales, region, tr, followup_days)
    if event.message and after is not None:
        after = replace(after, said=(*after.said, event.message)[-SAID:])
    return after, replies


def _step(flow: Flow, state: State, event: Incoming, locales: Locales, region: str,
          tr: Translator, followup_days: float) -> Step:
    if event.kind == "start":
        return _start(flow, state, tr, resume=event.value == "resume")
    if event.kind == "answer":
        return _button(flow, state, event, tr, followup_days)
    if event.kind == "command":
        name, _, arg = event.value.strip().partition(" ")
        return _command(flow, state, name, arg.strip(), event.token, locales, region,
                        followup_days)
    if event.token is not None and event.token != state.token:
        return state, [Reply("stale", tr.t("stale"))]  # typed under a question since answered
    return _typed(flow, state, event.value, locales, tr, followup_days)


def _typed(flow: Flow, state: State, text: str, locales: Locales, tr: Translator,
           followup_days: float) -> Step:
    """Typed text that is not a command: the open question's answer, or a re-prompt."""
    if state.done:
        return state, [_finished(flow, tr, state)]
    node = flow.nodes[state.node]
    option = match_answer(text, node, locales)
    if option is None:  # a blank line, "." or "!!" is no answer; "?" asks what is meant
        lead = tr.t("explain") if "?" in text and not normalize(text) else tr.t("reprompt")
        return state, [render.question(flow, tr, node, state.answers, state.token, lead=lead)]
    return _answer(flow, state, option, tr, followup_days)


def current(flow: Flow, state: State, tr: Translator, lead: str = "") -> Reply:
    """What the person should see now: the open question, or the finished-check menu."""
    if state.done:
        return _finished(flow, tr, state, lead)
    return render.question(flow, tr, flow.nodes[state.node], state.answers, state.token, lead=lead)


def _finished(flow: Flow, tr: Translator, state: State, lead: str = "") -> Reply:
    """The menu after a finished check, headed by its result, so the level is never lost."""
    level = triage.level_of(flow, state.answers)
    result = f"{tr.t(f'level.{level}.icon')} {tr.t(f'level.{level}.headline')}"
    text = (lead + "\n\n" if lead else "") + result + "\n\n" + tr.t("finished")
    buttons = tuple(Button("command", c, tr.t(f"button.{c}")) for c in render.OUTCOME_BUTTONS)
    return Reply("message", text, buttons, token=state.token, lead=lead)


def _start(flow: Flow, state: State, tr: Translator, resume: bool = False) -> Step:
    """Begin a check, or carry on with an unfinished one. `resume` (a terminal reopened)
    shows a finished check's result and menu again rather than starting a new one, so a
    number typed next picks from that menu, never answers a new first question."""
    if state.answers and (resume or not state.done):
        return state, [current(flow, state, tr, lead=tr.t("welcome_back"))]
    fresh = replace(state, node=flow.start, answers=(), done=False,
                    turn=state.turn + (1 if state.answers else 0))
    return fresh, [current(flow, fresh, tr, lead=tr.t("intro"))]


def _button(flow: Flow, state: State, event: Incoming, tr: Translator,
            followup_days: float) -> Step:
    if event.token != state.token or state.done:
        return state, [Reply("stale", tr.t("stale"))]
    node = flow.nodes[state.node]
    if node.option(event.value) is None:
        lead = tr.t("not_an_option")
        return state, [Reply("error", lead), current(flow, state, tr)]
    return _answer(flow, state, event.value, tr, followup_days)


def _answer(flow: Flow, state: State, option_id: str, tr: Translator,
            followup_days: float = 7) -> Step:
    node = flow.nodes[state.node]
    answers = (*state.answers, (node.id, option_id))
    target = triage.next_node(flow, node, option_id, triage.facts(flow, answers))
    done = flow.nodes[target].kind == "outcome"
    new = replace(state, node=target, answers=answers, turn=state.turn + 1, done=done)
    replies = [render.answered(tr, node, option_id)]
    if done:
        replies.append(render.outcome(flow, tr, answers, new.token, followup_days))
    else:
        replies.append(current(flow, new, tr))
    return new, replies


def _command(flow: Flow, state: State, name: str, arg: str, token: str | None,
             locales: Locales, region: str, followup_days: float = 7) -> Step:
    tr = locales.translator(state.lang, region)
    if name in ("back", "restart", "result") and token is not None and token != state.token:
        return state, [Reply("stale", tr.t("stale"))]
    if name == "start":
        return _start(flow, state, tr)
    if name == "back":
        return _back(flow, state, tr)
    if name == "restart":
        fresh = replace(state, node=flow.start, answers=(), done=False, turn=state.turn + 1)
        return fresh, [current(flow, fresh, tr, lead=tr.t("restarted"))]
    if name in ("stop", "cancel"):
        return None, [Reply("message", tr.t("stopped"))]
    if name == "language":
        lang = arg if arg in locales.langs else _other_lang(state.lang, locales)
        new = replace(state, lang=lang)
        tr = locales.translator(lang, region)
        return new, [current(flow, new, tr, lead=tr.t("language_switched"))]
    if name == "current":  # after a failure: show where the check stands, change nothing
        if state.done:  # the result may be what was lost: show it whole again
            return state, [Reply("message", tr.t("errors.resync")),
                           render.outcome(flow, tr, state.answers, state.token, followup_days)]
        return state, [current(flow, state, tr, lead=tr.t("errors.resync"))]
    if name == "result":
        return _result(flow, state, tr, followup_days)
    if name == "summary":
        text = render.summary(flow, tr, state.answers, state.day, state.done)
        return state, [Reply("message", text), current(flow, state, tr)]
    texts = {"help": commands.help_text, "faq": render.faq, "privacy": _privacy}
    if name in texts:
        return state, [current(flow, state, tr, lead=texts[name](tr))]
    return state, [current(flow, state, tr, lead=tr.t("reprompt"))]


def _result(flow: Flow, state: State, tr: Translator, followup_days: float) -> Step:
    """"Show my result now": ends the check only where nothing still to come could raise the
    level (after an emergency sign); anywhere else it skips nothing and says why."""
    if state.done:
        return state, [render.outcome(flow, tr, state.answers, state.token, followup_days)]
    if not triage.can_finish(flow, state.node, state.answers):
        return state, [current(flow, state, tr, lead=tr.t("result_not_yet"))]
    new = replace(state, node=flow.outcome_node(), turn=state.turn + 1, done=True)
    return new, [render.outcome(flow, tr, new.answers, new.token, followup_days)]


def _back(flow: Flow, state: State, tr: Translator) -> Step:
    if not state.answers:
        return state, [current(flow, state, tr, lead=tr.t("nothing_to_undo"))]
    last, _ = state.answers[-1]
    new = replace(state, node=last, answers=state.answers[:-1], done=False, turn=state.turn + 1)
    return new, [current(flow, new, tr, lead=tr.t("went_back"))]


def _privacy(tr: Translator) -> str:
    return tr.t("privacy")


def _other_lang(lang: str, locales: Locales) -> str:
    langs = locales.langs
    return langs[(langs.index(lang) + 1) % len(langs)] if lang in langs else langs[0]


def _labels(locales: Locales, label: str) -> frozenset[str]:
    """An option's label in every language, normalized."""
    memo_key = ("labels", label)
    if memo_key not in locales.memo:
        locales.memo[memo_key] = frozenset(
            normalize(locales.translator(lang).t(label)) for lang in locales.langs)
    labels: frozenset[str] = locales.memo[memo_key]
    return labels


def match_answer(text: str, node: Node, locales: Locales) -> str | None:
    """The option a typed answer means: yes/ja, no/nej, the number, the label or the id,
    in any case, spacing, dash or apostrophe ("1-6 veckor" for "1–6 veckor"); or a part
    of one label in whole words: its first words ("1 to 6"), or its last two or more
    ("ungefär likadana" for "De är ungefär likadana"; one last word such as "sure" is
    too little to go on). Never a guess: words that fit two options are no answer."""
    said = normalize(text)
    if not said:
        return None
    ids = [o.id for o in node.options]
    if said.isdigit() and 1 <= int(said) <= len(ids):
        return ids[int(said) - 1]
    for option in node.options:
        if (said == option.id or said in _labels(locales, option.label)
                or said in words(locales, f"words.{option.id}")):
            return option.id
    fits = {option.id for option in node.options
            if any(_part_of(said, label) for label in _labels(locales, option.label))}
    return fits.pop() if len(fits) == 1 else None


def _part_of(said: str, label: str) -> bool:
    """Whether `said` is the first whole words of `label`, or its last two or more; a
    hyphen parts words too ("6 veckor" is the end of "1-6 veckor" as well)."""
    mine, theirs = said.replace("-", " ").split(), label.replace("-", " ").split()
    return (mine == theirs[:len(mine)]
            or (len(mine) > 1 and mine == theirs[len(theirs) - len(mine):]))
