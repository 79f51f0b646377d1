"""The sources behind the content, for the review pack: clinical guidelines first, each
with its address, then the article's own source list, labelled as the article's.

They are read from one place, `registry`: the flow's sources registry (`sources:` in the
flow file, each with id, title, url and kind guideline | article) when the flow has
one; before it, the locale's list of titles, which records neither kind nor address (the
pack then says so in red rather than guess).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.flow import Flow
from bot.i18n import Translator

KINDS = ("guideline", "article")


@dataclass(frozen=True)
class Source:
    """One source: `kind` is guideline, article, or "" when the content does not say."""

    id: str
    title: str
    url: str = ""
    kind: str = ""


def registry(flow: Flow, tr: Translator) -> tuple[Source, ...]:
    """Every source, guidelines first, then the article's, then any not yet classified."""
    listed = getattr(flow, "sources", None)
    if listed:
        found = tuple(Source(str(s.id), str(s.title), str(s.url), str(s.kind))
                      for s in (listed.values() if isinstance(listed, dict) else listed))
    else:
        found = tuple(Source(f"s{i}", title) for i, title in enumerate(tr.words("sources"), 1))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return tuple(sorted(found, key=lambda s: order.get(s.kind, len(KINDS))))
