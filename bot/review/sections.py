"""The parts of the review page that come from the flow's logic: the questions and where
each answer leads, the rules and the invariants with lint's proof (the results: outcomes.py)."""

from __future__ import annotations

from bot.engine import lint
from bot.engine.flow import Node
from bot.review.content import STRUCTURAL, Review, in_words
from bot.review.markup import Wide, esc, section, table, tag


def _level(review: Review, level: str, headline: bool = True) -> str:
    name = tag("span", esc(level), f"level-{level}")
    words = review.tr("en").t(f"level.{level}.headline")
    return name + " " + tag("span", esc(f"– {words}"), "muted") if headline else name


def _lead(review: Review, lead: str) -> str:
    kind, _, target = lead.partition(":")
    if kind == "level":
        return "result: " + _level(review, target, headline=False)
    return "next: " + tag("a", tag("code", esc(target)), href=f"#q-{target}")


def _leads(review: Review, node: Node, option_id: str) -> str:
    leads = review.explored.leads.get((node.id, option_id), {})
    shown = [_lead(review, lead) for lead in sorted(leads, key=lambda x: (x[0] != "n", x))]
    if len(shown) > 1:
        shown[-1] += " " + tag("span", "(by earlier answers)", "muted")
    return ", ".join(shown) or tag("span", "never reached", "bad")


def _question(review: Review, number: int, node: Node) -> str:
    flow = review.flow
    red = node.id in flow.red_flags
    title = f"{number}. " + tag("code", esc(node.id)) + (
        tag("span", "red flag", "badge red") if red else "")
    en, sv = review.tr("en"), review.tr("sv")
    asked = [Wide(esc(en.t(node.text)) + tag("div", esc("short: " + en.t(node.short)), "muted")),
             Wide(esc(sv.t(node.text)) + tag("div", esc("kort: " + sv.t(node.short)), "muted"))]
    table_ = table(["answer", "English", "Svenska", "leads to"], [asked, *(
        [tag("code", esc(o.id)), esc(en.t(o.label)), esc(sv.t(o.label)),
         _leads(review, node, o.id)] for o in node.options)], "asks")
    return tag("div", tag("h3", title) + table_,
               "box question redflag" if red else "box question",
               id=f"q-{node.id}")


def questions(review: Review) -> str:
    """§3: every question in flow order, both languages, and where each answer leads."""
    nodes = [n for n in review.flow.nodes.values() if n.kind != "outcome"]
    intro = tag("p", esc(
        f"{len(nodes)} questions, in the order of the flow file. Red flags are asked first "
        f"({', '.join(review.flow.red_flags)}) and end the check as soon as one fires. "
        "“Leads to” is worked out from every path through the flow: the next question, or "
        "the result and the level it sets."))
    blocks = [_question(review, i, n) for i, n in enumerate(nodes, 1)]
    return section("questions", "3. Every question, in English and Swedish",
                   intro + "".join(blocks), "pagebreak")


def rules(review: Review) -> str:
    """§4: every rule in words with its source, and what decides the rest of a result."""
    flow, en = review.flow, review.tr("en")
    rows = [[str(i), esc(in_words(flow, en, r.cond)), _level(review, r.level, headline=False),
             esc(", ".join(r.why)),
             esc(r.source) if r.source else tag("span", "no source recorded", "bad")]
            for i, r in enumerate(flow.rules, 1)]
    parts = [tag("p", esc("The level is the most urgent level of every rule that holds, so "
                          "it never goes down as answers are added. Levels, least urgent "
                          "first: " + " → ".join(flow.levels) + ".")),
             table(["#", "when", "level at least", "why (shown to the person)", "source"], rows,
                   "rules")]
    parts.append(tag("h3", esc("What the symptoms may fit (never “you have”)")))
    parts.append(table(["may fit", "English name", "when"], [
        [tag("code", esc(f.id)), esc(en.t(f"fit.{f.id}.name")), esc(in_words(flow, en, f.cond))]
        for f in flow.fits]))
    parts.append(tag("h3", esc("What helps now (never from " + flow.exit_at + " up)")))
    parts.append(table(["advice", "shown when"], [
        [esc(en.t(key)), esc(in_words(flow, en, cond))] for key, cond in flow.helps]))
    if flow.worse:
        parts.append(tag("h3", esc("Seek help at once if (shown below the line's own level)")))
        parts.append(table(["line", "shown when the result is below", "and when"], [
            [esc(en.t(w.key)), esc(w.level), esc(in_words(flow, en, w.cond))]
            for w in flow.worse]))
    return section("rules", "4. Every triage rule, in words", "".join(parts))


def invariants(review: Review) -> str:
    """§5: every safety invariant, and lint's proof over every path."""
    flow, report, en = review.flow, review.report, review.tr("en")
    status = (tag("span", "all hold", "ok") if not report.violations else
              tag("span", f"{len(report.violations)} violated", "bad"))
    summary = tag("p", esc(f"backcheck lint walked every one of the {report.paths} paths from "
                           f"the first question to a result, checking {report.checks} steps, "
                           f"and proved {len(flow.invariants)} invariants and "
                           f"{len(STRUCTURAL)} structural rules: ") + status + ".")
    rows = [[tag("code", esc(inv.name)), esc(in_words(flow, en, inv.cond)),
             _level(review, inv.level, headline=False),
             esc(f"{review.explored.applies.get(inv.name, 0)} of {report.paths}"),
             _proof(review, inv.name)] for inv in flow.invariants]
    rows += [[tag("code", esc(name)), esc(words), "", esc(f"all {report.paths}"),
              _proof(review, name)] for name, words in STRUCTURAL.items()]
    head = ["invariant", "whenever", "the level is at least", "paths where it applies",
            "proof"]
    note = tag("p", esc("An invariant also fails when a path ends below its level without "
                        "asking a question it needs (a skipped question proves nothing)."),
               "muted")
    return section("invariants", "5. Safety invariants, proved over every path",
                   summary + table(head, rows, "invariants") + note)


def _proof(review: Review, name: str) -> str:
    found = review.report.violations.get(name)
    if found is None:
        return tag("span", "OK", "ok")
    why, path = found
    return tag("span", "VIOLATED", "bad") + esc(f": {why}; shortest counterexample: "
                                                f"{lint.format_path(path)}")
