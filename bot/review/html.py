"""The review page: one self-contained HTML file (inline CSS and SVG, nothing fetched),
every text escaped, with the content version on every printed page."""

from __future__ import annotations

import datetime as dt
import hashlib

from bot.review import graph, outcomes, sections, sources
from bot.review.content import Review
from bot.review.hazards import HazardLog
from bot.review.markup import esc, items, section, table, tag
from bot.review.style import CSS, page_css
from bot.review.version import short

PART_LETTERS = "abcdefghijklmnopqrstuvwxyz"
CHANGE_LINES = 9  # ruled lines on the sign-off page for "approved with the changes noted"
INTENDED_USE = (
    "The check asks a person a fixed series of short questions in a chat (a chat app, a "
    "browser or a terminal) and tells them how urgently to seek care, what their symptoms may fit, "
    "and what helps now. Every question, rule and sentence is data in the files hashed "
    "below; nothing else decides a result.")
WHO_FOR = (
    "Adults with the symptoms the flow is about, typically staff of a workplace or patients "
    "of a clinic that offers the bot, in English or Swedish. It is not for children, for "
    "someone who is already being treated for these symptoms and has been told what to "
    "watch for, or for use by a third party on someone else's behalf.")
NOT_FOR = (
    "It is not a diagnosis and does not replace a clinician. It never says “you have”; it "
    "names conditions the symptoms may fit. It does not treat, prescribe or book care. "
    "Red flags are asked first and end the check at once with an emergency level.")


def _cover(review: Review) -> str:
    flow, version = review.flow, review.version
    files = [f"{name} (sha256 {short(hashlib.sha256(path.read_bytes()).hexdigest())})"
             for name, path in review.content.files()]
    meta = table(["", ""], [
        ["flow", tag("code", esc(flow.id)) + esc(f" — {review.content.files()[0][0]}")],
        ["content version", tag("strong", tag("code", esc(short(version))))
         + tag("div", tag("code", esc(version)), "muted")],
        ["files in the version", "<br>".join(esc(f) for f in files)],
        ["made", esc(dt.date.today().isoformat() + " by backcheck review")],
    ], "meta")
    return (tag("h1", esc(f"Clinical review pack: {flow.id}")) +
            tag("p", esc("Every question the check asks, every decision it makes and every "
                         "sentence it can say, for a clinician's sign-off."), "lead") + meta)


def _purpose(review: Review) -> str:
    en, sv = review.tr("en"), review.tr("sv")
    levels = table(["level", "English headline (SE)", "Svenska (SE)"], [
        [tag("code", esc(level)), esc(en.t(f"level.{level}.headline")),
         esc(sv.t(f"level.{level}.headline"))] for level in reversed(review.flow.levels)])
    first = table(["English", "Svenska"], [[esc(en.t("intro")), esc(sv.t("intro"))]],
                  "two texts")
    purpose = table(["", ""], [[tag("strong", esc(k)), esc(v)] for k, v in (
        ("Intended use", INTENDED_USE), ("Who it is for", WHO_FOR),
        ("What it is not", NOT_FOR))], "meta")
    inner = (purpose + tag("h3", "What the person reads first") + first +
             tag("h3", "The levels, most urgent first") + levels)
    return section("purpose", "1. What the check is for, and not for", inner)


def _picture(review: Review) -> str:
    drawn = graph.part_svgs(review.flow, review.tr("en"), review.ends())
    note = tag("p", esc(
        f"The flow in {len(drawn)} parts, one picture each: "
        + "; ".join(f"{letter}. {part.title}" for letter, (part, _, _) in zip(
            PART_LETTERS, drawn, strict=False))
        + ". Each box is a question (its id and short English wording); red boxes are red "
        "flags. Edges carry the answers or the condition that takes them; a “result” box "
        "names the levels the rules in part 4 can set there (red: from the exit level up); "
        "a dashed box is the way on into another part; a number in brackets is a condition "
        "written out under the picture."), "muted")
    pictures = [tag("div", tag("h3", esc(f"2{letter}. {part.title}")) + picture
                    + (items(notes, ordered=True, cls="notes") if notes else ""), "part")
                for letter, (part, picture, notes) in zip(PART_LETTERS, drawn, strict=False)]
    return section("graph", "2. The flow as pictures", note + "".join(pictures),
                   "pagebreak graph")


def _side_by_side(review: Review, keys: list[str], head: str) -> str:
    trs = [review.tr(lang) for lang in review.langs]
    return table([head, "English", "Svenska"], [
        [tag("code", esc(key)), *(esc(tr.t(key)) for tr in trs)] for key in keys], "texts")


def _texts(review: Review) -> str:
    en = review.tr("en")
    faq = [k for i in range(1, 100) for k in (f"faq.q{i}", f"faq.a{i}") if en.has(f"faq.q{i}")]
    inner = (tag("h3", "Questions & answers (FAQ)") + _side_by_side(review, faq, "key") +
             tag("h3", "Tips for wellness channels, in the order they are posted") +
             _side_by_side(review, [f"tips.{t}" for t in review.tips], "tip") +
             _sources(review))
    return section("texts", "8. FAQ, tips and sources", inner)


def _sources(review: Review) -> str:
    """Guidelines first, each with its address; the article's own list labelled so."""
    found = sources.registry(review.flow, review.tr("en"))
    groups = (("guideline", "Clinical guidelines"),
              ("article", "The article's own sources (as the article lists them: clinic "
                          "and health-information sites, not clinical guidelines)"),
              ("", "Sources the content does not yet say the kind or address of"))
    out = tag("h3", "Sources")
    for kind, title in groups:
        rows = [[tag("code", esc(s.id)), esc(s.title),
                 tag("code", esc(s.url)) if s.url else tag("span", "no address recorded", "bad")]
                for s in found if s.kind == kind]
        if rows:
            out += tag("p", tag("strong", esc(title))) + table(["id", "title", "address"],
                                                              rows, "texts")
    return out


def _care(review: Review) -> str:
    """The workplace's own places of care (BACKCHECK_CARE_FILE), as the results show them."""
    care = review.content.care
    if care is None:
        return section("care", "7. The workplace's own places of care", tag("p", esc(
            "No care file (BACKCHECK_CARE_FILE) is part of this version: results name only "
            "public care.")))
    levels = ", ".join(review.flow.levels[:review.flow.rank(review.flow.exit_at)])
    rows = [[*(esc(p.name_in(lang)) for lang in review.langs), esc(p.phone),
             tag("code", esc(p.url)), *(esc(p.hours_in(lang)) for lang in review.langs),
             esc(", ".join(p.levels))] for p in review.flow.care]
    intro = tag("p", esc(
        f"From {care.name}: shown under “Where to go” (6a) in the results of the levels each "
        f"names ({levels}); never from {review.flow.exit_at} up, where a result shows only "
        "public emergency care and the emergency number."))
    return section("care", "7. The workplace's own places of care", intro + table(
        ["name (English)", "namn (svenska)", "phone", "address", "hours", "öppettider",
         "shown at"], rows, "texts"))


def _hazards(review: Review) -> str:
    log = review.hazards
    problems = tag("div", tag("strong", "References that do not resolve: ") +
                   items(log.problems), "warn") if log.problems else ""
    rows = [[tag("code", esc(h.id)), esc(h.hazard), esc(h.cause), esc(h.effect),
             esc(h.control), "<br>".join(_reference(log, h.id, r) for r in h.verified_by)]
            for h in log.hazards]
    intro = tag("p", esc(f"From {log.path}: each hazard, its cause and effect, the control "
                         "that prevents it, and the invariant (proved in part 5) or test "
                         "that verifies the control."))
    return section("hazards", "9. Hazard log", intro + problems + table(
        ["id", "hazard", "cause", "effect", "control", "verified by"], rows, "hazards"),
        "pagebreak")


def _reference(log: HazardLog, hazard: str, ref: str) -> str:
    if (hazard, ref) in log.unresolved:
        return tag("code", esc(ref), "bad") + tag("span", esc(" (unresolved)"), "bad")
    mark = "invariant, proved" if "::" not in ref else "test"
    return tag("code", esc(ref)) + tag("span", esc(f" ({mark})"), "muted")


def _signoff(review: Review) -> str:
    """The last page, alone and whole: the statement, the decision, ruled lines for the
    changes, and who signed which version when."""
    version = short(review.version)
    statement = tag("p", esc(
        f"I have reviewed every question, rule, result text, the places of care and the "
        f"hazard log of flow “{review.flow.id}”, content version {version}. Deployed bots "
        f"run only this content when BACKCHECK_SIGNED_VERSION={version} is set."))
    decision = table(["", ""], [[esc("Decision"), esc(
        "☐ approved   ☐ approved with the changes noted below   ☐ not approved")]], "sign")
    ruled = tag("div", "".join(tag("div", "", "ruled") for _ in range(CHANGE_LINES)),
                "changes")
    rows = [[esc(label), ""] for label in ("Reviewer name", "Role and registration number",
                                           "Organisation", "Date", "Signature")]
    rows.append([esc("Content version"), tag("code", esc(review.version))])
    return section("signoff", "10. Sign-off", statement + decision
                   + tag("p", tag("strong", esc("Changes noted"))
                         + esc(" (what must change before use, with the part and item)"))
                   + ruled + table(["", ""], rows, "sign"), "signoff")


def page(review: Review, diff_html: str = "") -> str:
    """The whole review page as one HTML document."""
    version = short(review.version)
    bar = tag("div", tag("span", esc(f"backcheck clinical review · flow {review.flow.id}")) +
              tag("span", esc(f"content version {version}")), "bar")
    parts = [_cover(review), _purpose(review), _picture(review), sections.questions(review),
             sections.rules(review), sections.invariants(review), outcomes.results(review),
             _care(review), _texts(review), _hazards(review), diff_html, _signoff(review)]
    head = (tag("title", esc(f"Clinical review: {review.flow.id} {version}")) +
            '<meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
            tag("style", CSS + page_css(review.flow.id, version)))
    return "<!doctype html>\n" + tag("html", tag("head", head) + tag("body", bar + "".join(parts)),
                                     lang="en") + "\n"
