"""The flow as a picture: Graphviz `dot` (Debian's graphviz package) draws it as SVG,
offline, for the review page. Red-flag questions are drawn red; each edge carries the
answers (or the condition, in words) that take it."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Mapping, Sequence

from bot.engine import lint
from bot.engine.flow import Flow, Node
from bot.errors import BackcheckError
from bot.i18n import Translator

RED, PINK, GREY = "#b03a2e", "#fbe3e1", "#5d6d7e"
WRAP = 26  # characters per line of a node's label


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
            f'style="filled,bold", fontsize=9, {colour}];')


def dot_source(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]]) -> str:
    """The flow in Graphviz's language; `ends` maps a node to the levels its way to the
    result can set, drawn as a result box under it instead of one shared result node."""
    lines = [f"digraph {_quote(flow.id)} {{",
             '  graph [rankdir=TB, nodesep=0.25, ranksep=0.3, fontname="Helvetica"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#5d6d7e",'
             ' fontname="Helvetica", fontsize=11, margin="0.12,0.06"];',
             f'  edge [fontname="Helvetica", fontsize=9, color="{GREY}", fontcolor="#34495e"];']
    lines += [_node(flow, tr, n) for n in flow.nodes.values() if n.kind != "outcome"]
    for node in flow.nodes.values():
        to_result = [label for target, label in _edges(node)
                     if flow.nodes[target].kind == "outcome"]
        if to_result:
            lines.append(_end(flow, node, ends.get(node.id, ())))
            text = "\n".join(textwrap.wrap(" / ".join(filter(None, to_result)), WRAP))
            lines.append(f"  {_quote(node.id)} -> {_quote(node.id + '.result')} "
                         f"[label={_quote(text)}];")
        for target, label in _edges(node):
            if flow.nodes[target].kind != "outcome":
                text = "\n".join(textwrap.wrap(label, WRAP)) if label else ""
                lines.append(f"  {_quote(node.id)} -> {_quote(target)} [label={_quote(text)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(flow: Flow, tr: Translator, ends: Mapping[str, Sequence[str]]) -> str:
    """The flow as an inline SVG element (no XML prolog, scales to the page width)."""
    dot = shutil.which("dot")
    if dot is None:
        raise BackcheckError("Graphviz is not installed: `dot` is needed to draw the flow "
                             "(apt-get install graphviz)")
    done = subprocess.run([dot, "-Tsvg"], input=dot_source(flow, tr, ends), capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BackcheckError(f"dot could not draw the flow: {done.stderr.strip()[:300]}")
    picture = done.stdout[done.stdout.index("<svg"):]
    picture = re.sub(r"<!--.*?-->\s*", "", picture, flags=re.DOTALL)
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg class="flow-graph"', picture,
                  count=1)
