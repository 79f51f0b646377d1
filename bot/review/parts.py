"""The parts of the flow a clinician reads one at a time (red flags, care today, the
article's checklist, other causes), each drawn as its own picture.

The parts are the flow file's own section comments among its nodes (`# --- Red flags:
call an ambulance ---`): each question belongs to the last such heading above it. A
flow without such headings is one part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.engine.flow import Flow

HEADING = re.compile(r"^\s+#\s*-{3}\s*(?P<title>.*?)\s*-*\s*$")


@dataclass(frozen=True)
class Part:
    """A run of questions under one heading of the flow file."""

    title: str
    nodes: tuple[str, ...]


def _headings(path: Path) -> list[tuple[int, str]]:
    """(line, title) of every section heading inside the file's `nodes:` block."""
    found: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("nodes:"):
            inside = True
        elif inside and line[:1].isalpha():  # the next top-level key ends the block
            break
        elif inside and (match := HEADING.match(line)) and match["title"]:
            found.append((number, match["title"]))
    return found


def parts(flow: Flow) -> list[Part]:
    """The flow's questions in parts, in file order."""
    questions = [n for n in flow.nodes.values() if n.kind != "outcome"]
    path = Path(flow.path)
    headings = _headings(path) if path.is_file() else []
    grouped: list[tuple[str, list[str]]] = []
    for node in questions:
        above = [title for line, title in headings if node.line is None or line < node.line]
        title = above[-1] if above else "The flow"
        if not grouped or grouped[-1][0] != title:
            grouped.append((title, []))
        grouped[-1][1].append(node.id)
    return [Part(title, tuple(ids)) for title, ids in grouped]
