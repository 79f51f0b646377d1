"""Every result the check can give, without the repetition: each line a result shows
(a test, a piece of advice, a safety-net line, a source, a place of care…) that more
than one result shows is printed once, in a table saying which results show it, and each
result is printed as only what is its own — its level, "may fit" list, why, and the lines
no other result shows — with the ids of the shared lines it shows too.

Nothing here knows the back-pain wording: the lines are cut from what the engine renders
for the person (bot/engine/render.py), in every language, so the pack shows exactly the
words people read. A section of the result is a title line followed by "• " lines; a
section without bullets (the headline and its advice) is one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.engine.render import outcome
from bot.review.content import REGIONS, Answers, ResultKey, Review, option_label
from bot.review.markup import Wide, esc, section, table, tag

BULLET = "• "
Texts = tuple[str, ...]  # one text per language, in the review's language order


@dataclass(frozen=True)
class Line:
    """One line of a result, in every language, under its section's title."""

    title: Texts  # ("", "") for a section without a title
    text: Texts


@dataclass
class Split:
    """The results cut into lines: which results show each line, and each result's own."""

    shown_in: dict[Line, list[int]] = field(default_factory=dict)
    lines: dict[int, list[Line]] = field(default_factory=dict)  # result -> its lines

    def shared(self) -> list[Line]:
        """Lines more than one result shows, by section (in the order first seen)."""
        found = [line for line, where in self.shown_in.items() if len(where) > 1]
        order = {title: i for i, title in reversed(list(enumerate(x.title for x in found)))}
        return sorted(found, key=lambda line: order[line.title])

    def own(self, number: int) -> list[Line]:
        """The lines of this result that are its own."""
        shared = set(self.shared())
        return [line for line in self.lines[number] if line not in shared]


def _sections(review: Review, path: Answers, lang: str, region: str) -> list[str]:
    reply = outcome(review.flow, review.tr(lang, region), path, "")
    buttons = "   ".join(f"[{b.label}]" for b in reply.buttons)
    return [*reply.sections, buttons]


def _cut(text: str) -> tuple[str, list[str]]:
    """A section as (title, lines): bullets under a title, or the whole section as one."""
    rows = text.splitlines()
    if len(rows) > 1 and all(r.startswith(BULLET) for r in rows[1:]):
        return rows[0], [r.removeprefix(BULLET) for r in rows[1:]]
    return "", [text]


def lines_of(review: Review, path: Answers, region: str = REGIONS[0]) -> list[Line]:
    """Every line the person reads at this result, in every language, in order."""
    per_lang = [_sections(review, path, lang, region) for lang in review.langs]
    out: list[Line] = []
    for texts in zip(*per_lang, strict=True):
        cuts = [_cut(t) for t in texts]
        titles = tuple(c[0] for c in cuts)
        for row in zip(*(c[1] for c in cuts), strict=True):
            out.append(Line(titles, tuple(row)))
    return out


def split(review: Review) -> Split:
    """Cut every reachable result into lines and count where each is shown."""
    found = Split()
    for number, (_, path) in enumerate(review.results(), 1):
        found.lines[number] = lines_of(review, path)
        for line in found.lines[number]:
            found.shown_in.setdefault(line, [])
            if number not in found.shown_in[line]:
                found.shown_in[line].append(number)
    return found


def spans(numbers: Sequence[int], prefix: str = "") -> str:
    """1, 2, 3, 5 -> "1–3, 5" (with `prefix` "S": "S1–S3, S5")."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{prefix}{r[0]}" + (f"–{prefix}{r[-1]}" if len(r) > 1 else "")
                     for r in runs)


def _ids(found: Split) -> dict[Line, str]:
    return {line: f"S{i}" for i, line in enumerate(found.shared(), 1)}


def _lines_table(review: Review, lines: list[Line],
                 shared: tuple[dict[Line, str], Split] | None = None) -> str:
    """Lines under their titles, a column per language; with `shared`, each line's id and
    the results that show it too."""
    rows: list[list[str]] = []
    last: Texts = ()
    for line in lines:
        if line.title != last and any(line.title):
            titles = [tag("strong", esc(t)) for t in line.title]
            rows.append(["", *titles, ""] if shared else titles)
        last = line.title
        cells = _texts(line.text)
        if shared:
            ids, found = shared
            cells = [tag("code", ids[line]), *cells,
                     esc(shown_in(found.shown_in[line], len(found.lines)))]
        rows.append(cells)
    languages = [_language(lang) for lang in review.langs]
    head = ["line", *languages, "shown in results"] if shared else ["" for _ in languages]
    return table(head, rows, "texts lines")


def _texts(texts: Texts) -> list[str]:
    """A cell per language, or one cell across them when every language reads the same
    (an address, a source's title): printed once."""
    if len(texts) > 1 and len(set(texts)) == 1:
        return [Wide(esc(texts[0]), len(texts))]
    return [esc(t) for t in texts]


def shown_in(numbers: Sequence[int], total: int) -> str:
    """The results that show a line, as runs ("2–51, 53") or, when fewer words, as the
    ones that do not ("all but 1, 52")."""
    missing = sorted(set(range(1, total + 1)) - set(numbers))
    listed = spans(numbers)
    if not missing:
        return "all"
    other = "all but " + spans(missing)
    return other if len(other) < len(listed) else listed


def _language(lang: str) -> str:
    return {"en": "English", "sv": "Svenska"}.get(lang, lang)


def _steps(review: Review, path: Answers) -> str:
    """The answers that are not "no", in the order asked, and how many were "no": the
    check asks the same questions for the same answers, so answering as listed and "no"
    to every other question it asks reaches the result again."""
    flow, en = review.flow, review.tr("en")
    said = [(q, a, option_label(en, flow.nodes[q], a)) for q, a in path]
    listed = [f"{q} = {label}" for q, a, label in said if a != "no"]
    noes = len(said) - len(listed)
    rest = f"no to the other {noes} asked" if listed else f"no to all {noes} asked"
    return " · ".join([*listed, rest] if noes else listed)


def _result(review: Review, number: int, key: ResultKey, path: Answers, found: Split,
            ids: dict[Line, str]) -> str:
    """One result as what is its own: level, "may fit", the ids of the shared lines it
    shows (the why lines named apart), the shortest answers, and its own lines if any."""
    level, fits = key
    title = (f"{number}. " + tag("span", esc(level), f"level-{level}")
             + esc(f" · may fit: {', '.join(fits) or 'nothing in particular'}"))
    why_title = tuple(review.tr(lang).t("outcome.why_title") for lang in review.langs)
    shown = [line for line in found.lines[number] if line in ids]
    why = spans([int(ids[x][1:]) for x in shown if x.title == why_title], "S")
    also = spans([int(ids[x][1:]) for x in shown if x.title != why_title], "S")
    own = found.own(number)
    refs = (tag("strong", esc("why: ")) + esc(why or "its own lines below")
            + tag("strong", esc(" · shared lines: ")) + esc(also or "none"))
    return tag("div", tag("h3", title) + tag("span", refs, "refs")
               + tag("p", esc(f"Shortest answers ({len(path)}): " + _steps(review, path)),
                     "path")
               + (_lines_table(review, own) if own else ""),
               "box result", id=f"r-{number}")


def _regional(review: Review) -> str:
    """The lines that read differently in the other regions, each once."""
    seen: dict[tuple[str, Texts], list[int]] = {}
    for number, (_, path) in enumerate(review.results(), 1):
        base = lines_of(review, path)
        for region in REGIONS[1:]:
            for was, now in zip(base, lines_of(review, path, region), strict=False):
                if was.text != now.text:
                    seen.setdefault((region, now.text), []).append(number)
    total = len(review.results())
    rows = [[esc(region), *_texts(texts), esc(shown_in(numbers, total))]
            for (region, texts), numbers in seen.items()]
    return (tag("h3", esc(f"In {', '.join(REGIONS[1:])}: the lines that read differently"))
            + tag("p", esc("Numbers and places of care come from the region "
                           f"(BACKCHECK_REGION); above is {REGIONS[0]}."), "muted")
            + table(["region", *map(_language, review.langs), "in results"], rows,
                    "texts lines"))


def results(review: Review) -> str:
    """§6: the shared lines once, then every distinct result as what is its own."""
    reached = review.results()
    found = split(review)
    ids = _ids(found)
    intro = tag("p", esc(
        f"{len(reached)} distinct results (level × “may fit” list) can be reached over the "
        f"{review.explored.paths} paths, most urgent first. Every word a person reads at a "
        "result is here, in English and Swedish: a line that several results show — an "
        f"answer that decided it (“why”), a test, advice — is printed once in 6a with the "
        f"results that show it ({len(ids)} lines); each result in 6b shows the ids of the "
        "shared lines it shows (first the why lines, then the rest), its shortest answers "
        "and the lines that are its own."))
    blocks = [_result(review, i, key, path, found, ids)
              for i, (key, path) in enumerate(reached, 1)]
    return section("results", "6. Every result the check can give", intro
                   + tag("h3", "6a. Lines several results show") + _lines_table(
                       review, list(ids), (ids, found))
                   + _regional(review)
                   + tag("h3", "6b. Each result: what is its own") + "".join(blocks),
                   "pagebreak")
