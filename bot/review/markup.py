"""Small HTML builders for the review page. Every text passes through `esc`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


def esc(text: object) -> str:
    """Text made safe for HTML: <, >, & and quotes escaped."""
    return html.escape(str(text), quote=True)


def tag(name: str, inner: str, cls: str = "", **attrs: str) -> str:
    """<name class=...>inner</name>; `inner` is HTML already, attribute values are escaped."""
    extra = "".join(f' {k.rstrip("_")}="{esc(v)}"' for k, v in attrs.items())
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<{name}{klass}{extra}>{inner}</{name}>"


class Wide(str):
    """A table cell (HTML) that spans `cols` columns: one text that reads the same in
    both languages is printed once across them."""

    cols: int = 2

    def __new__(cls, html_text: str, cols: int = 2) -> Wide:
        made = super().__new__(cls, html_text)
        made.cols = cols
        return made


def _td(cell: str) -> str:
    return tag("td", cell, colspan=str(cell.cols)) if isinstance(cell, Wide) else tag("td", cell)


def table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table: `head` is plain text, each row's cells are HTML (a `Wide` cell spans)."""
    top = tag("thead", tag("tr", "".join(tag("th", esc(h)) for h in head))) if any(head) else ""
    body = "".join(tag("tr", "".join(_td(c) for c in row)) for row in rows)
    return tag("table", top + tag("tbody", body), cls)


def section(anchor: str, title: str, inner: str, cls: str = "") -> str:
    """A numbered part of the page with its heading."""
    return tag("section", tag("h2", esc(title)) + inner, cls, id=anchor)


def items(lines: Iterable[str], ordered: bool = False, cls: str = "") -> str:
    """A list of plain-text lines."""
    return tag("ol" if ordered else "ul", "".join(tag("li", esc(x)) for x in lines), cls)
