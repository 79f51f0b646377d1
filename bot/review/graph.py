"""The flow as pictures: Graphviz `dot` (Debian's graphviz package) draws each part of
the flow (bot/review/parts.py) as SVG, offline, for the review page. Red-flag questions
are drawn red; each edge carries the answers (or the condition, in words) that take it;
the ways on into another part end in a dashed box naming the questions there.

Each picture is sized for an A4 page: shrunk to fit the printable width and height when
it must be, but never so far that its smallest text prints under `MIN_PT` points."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Collection, Mapping, Sequence

from bot.engine import lint
from bot.engine.flow import Flow, Node
from bot.errors import BackcheckError
from bot.i18n import Translator
from bot.review.parts import Part, parts

RED, PINK, GREY = "#b03a2e", "#fbe3e1", "#5d6d7e"
WRAP = 26  # characters per line of a node's label
NODE_PT, EDGE_PT = 9.5, 9  # font sizes in the drawing, before any shrinking
NOTE_OVER = 40  # an edge label longer than this becomes a numbered note under the picture
MIN_PT = 8  # the smallest text a printed picture may have
PAGE_PT = (515.0, 600.0)  # the room for a picture on an A4 page (width, height) in points


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _label(flow: Flow, tr: Translator, node: Node) -> str:
    if node.kind == "outcome":
        return "result\n" + "\n".join(reversed(flow.levels))
    words = tr.t(node.short) if node.short else ""
    return "\n".join([node.id, *textwrap.wrap(words, WRAP)])


def _node(flow: Flow, tr: Translator, node: Node) -> str:
    attrs = {"label": _label(flow, tr, node)}
    if node.id in flow.red_flags:
        attrs |= {"color": RED, "fillcolor": PINK, "penwidth": "2", "fontcolor": "#7b241c"}
    if node.kind == "outcome":
        attrs |= {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#eaf2f8"}
    return f"  {_quote(node.id)} [{', '.join(f'{k}={_quote(v)}' for k, v in attrs.items())}];"


def _edges(node: Node) -> list[tuple[str, str]]:
    """(target, label) of every way on from `node`."""
    out = [(t.goto, f"{o.id}" + (f" if {lint.describe(t.cond)}" if t.cond else ""))
           for o in node.options for t in o.next]
    for t in node.next:
        many = len(node.next) > 1 or any(o.next for o in node.options)
        out.append((t.goto, "otherwise" if t.cond is None and many else lint.describe(t.cond)))
    return out


def _end(flow: Flow, node: Node, levels: Sequence[str]) -> str:
    """A result box of its own under `node`, naming the levels reached from it."""
    urgent = any(flow.rank(level) >= flow.rank(flow.exit_at) for level in levels)
    colour = f'color="{RED}", fontcolor="{RED}", fillcolor="{PINK}"' if urgent else \
        'fillcolor="#eaf2f8"'
    label = "result: " + ", ".join(sorted(levels, key=flow.rank, reverse=True))
    return (f"  {_quote(node.id + '.result')} [label={_quote(label)}, shape=box, "
            f'style="filled,bold", {colour}];')


def _elsewhere(node: str, ways: list[tuple[str, str]]) -> str:
    """One dashed box under `node` for its ways on into other parts of the flow: a line
    per question there, with the answers that lead to it."""
    lines = [f"→ {target}" + (f": {label}" if label else "") for target, label in ways]
    return (f"  {_quote('out.' + node)} [label={_quote(chr(10).join(lines))}, "
            'style="rounded,dashed"];')


def _merged(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One edge per target, its labels joined with " / "."""
    out: dict[str, list[str]] = {}
    for target, label in edges:
        out.setdefault(target, []).append(label)
    return [(target, " / ".join(filter(None, labels))) for target, labels in out.items()]


class Notes:
    """Edge labels too long for a picture, moved under it as numbered notes: with
    `limit` 0 every label stays on its edge."""

    def __init__(self, limit: int = 0) -> None:
        self.limit, self.texts = limit, list[str]()

    def label(self, text: str) -> str:
        """The text to print on the edge: itself, or "(n)" for note n."""
        if not self.limit or len(text) <= self.limit:
            return "\n".join(textwrap.wrap(text, WRAP))
        if text not in self.texts:
            self.texts.append(text)
        return f"({self.texts.index(text) + 1})"


def dot_source(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]],
               only: Collection[str] | None = None, notes: Notes | None = None) -> str:
    """The flow (or the questions in `only`) in Graphviz's language; `ends` maps a node to
    the levels its way to the result can set, drawn as a result box under it instead of
    one shared result node; a dashed box holds the ways on to questions outside `only`;
    `notes` takes the labels too long for an edge."""
    notes = notes or Notes()
    drawn = [n for n in flow.nodes.values() if n.kind != "outcome"
             and (only is None or n.id in only)]
    lines = [f"digraph {_quote(flow.id)} {{",
             '  graph [rankdir=TB, nodesep=0.25, ranksep=0.3, fontname="Helvetica"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#5d6d7e",'
             f' fontname="Helvetica", fontsize={NODE_PT}, margin="0.12,0.06"];',
             f'  edge [fontname="Helvetica", fontsize={EDGE_PT}, color="{GREY}", '
             'fontcolor="#34495e"];']
    lines += [_node(flow, tr, n) for n in drawn]
    for node in drawn:
        to_result = [label for target, label in _edges(node)
                     if flow.nodes[target].kind == "outcome"]
        if to_result:
            lines.append(_end(flow, node, ends.get(node.id, ())))
            text = notes.label(" / ".join(filter(None, to_result)))
            lines.append(f"  {_quote(node.id)} -> {_quote(node.id + '.result')} "
                         f"[label={_quote(text)}];")
        onward = _merged([(t, label) for t, label in _edges(node)
                          if flow.nodes[t].kind != "outcome"])
        away = [(t, notes.label(label)) for t, label in onward
                if only is not None and t not in only]
        if away:
            lines.append(_elsewhere(node.id, away))
            lines.append(f"  {_quote(node.id)} -> {_quote('out.' + node.id)};")
        lines += [f"  {_quote(node.id)} -> {_quote(t)} [label={_quote(notes.label(label))}];"
                  for t, label in onward if only is None or t in only]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _draw(source: str) -> str:
    """dot's SVG for `source`, sized for the printed page (see `fit`)."""
    dot = shutil.which("dot")
    if dot is None:
        raise BackcheckError("Graphviz is not installed: `dot` is needed to draw the flow "
                             "(apt-get install graphviz)")
    done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BackcheckError(f"dot could not draw the flow: {done.stderr.strip()[:300]}")
    picture = done.stdout[done.stdout.index("<svg"):]
    return re.sub(r"<!--.*?-->\s*", "", picture, flags=re.DOTALL)


def _size(picture: str) -> tuple[str, float, float]:
    size = re.match(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', picture)
    if size is None:
        raise BackcheckError("dot drew an SVG without a size in points")
    return size[0], float(size[1]), float(size[2])


def scale_of(picture: str) -> float:
    """How far a picture must shrink to fit the page (1: not at all)."""
    _, width, height = _size(picture)
    return min(1.0, PAGE_PT[0] / width, PAGE_PT[1] / height)


def fit(picture: str) -> str:
    """The SVG with its printed width and height in points: its natural size, shrunk
    (keeping its shape) only as far as the page needs."""
    found, width, height = _size(picture)
    scale = scale_of(picture)
    return picture.replace(found, f'<svg class="flow-graph" width="{width * scale:.1f}pt" '
                                  f'height="{height * scale:.1f}pt"', 1)


def svg(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]]) -> str:
    """The whole flow as one inline SVG element (no XML prolog)."""
    return fit(_draw(dot_source(flow, tr, ends)))


def part_svgs(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]]
              ) -> list[tuple[Part, str, list[str]]]:
    """Each part of the flow as its own inline SVG, with the notes for its long edge
    labels, in the flow's order. A part too big to print readably on one page is drawn
    in halves ("… (1 of 2)")."""
    out: list[tuple[Part, str, list[str]]] = []
    for part in parts(flow):
        pieces = _pieces(flow, tr, ends, part)
        for i, (piece, picture, notes) in enumerate(pieces, 1):
            title = f"{part.title} ({i} of {len(pieces)})" if len(pieces) > 1 else part.title
            out.append((Part(title, piece.nodes), fit(picture), notes))
    return out


def _pieces(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]],
            part: Part) -> list[tuple[Part, str, list[str]]]:
    notes = Notes(NOTE_OVER)
    picture = _draw(dot_source(flow, tr, ends, set(part.nodes), notes))
    smallest = min(NODE_PT, EDGE_PT)
    if smallest * scale_of(picture) >= MIN_PT or len(part.nodes) == 1:
        return [(part, picture, notes.texts)]
    half = (len(part.nodes) + 1) // 2
    return [*_pieces(flow, tr, ends, Part(part.title, part.nodes[:half])),
            *_pieces(flow, tr, ends, Part(part.title, part.nodes[half:]))]
