"""Anonymous totals for wellness leads: completed checks per ISO week and level.

Only counters are stored (`<year>-W<week>:<level>` -> n): no user id, no answer. Any
count below 5 is shown as "<5" so no one can be singled out. Weeks older than
BACKCHECK_STATS_WEEKS (default 104) are deleted when a new week's first count is made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bot.i18n import Translator
from bot.stores.base import STATS, Store

SMALL = 5
STATS_WEEKS = 104  # default BACKCHECK_STATS_WEEKS: how many weeks of totals are kept
BAR = 20


def week_of(ts: float) -> str:
    """The ISO week of a moment, e.g. "2026-W48"."""
    year, week, _ = dt.datetime.fromtimestamp(ts, dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


async def record_completion(store: Store, level: str, now: float,
                            keep_weeks: int = STATS_WEEKS) -> None:
    """Count one completed check; the first count of a week deletes the expired weeks."""
    if await store.incr(STATS, f"{week_of(now)}:{level}") == 1:
        await prune(store, now, keep_weeks)


async def prune(store: Store, now: float, keep_weeks: int) -> int:
    """Delete the totals of weeks more than `keep_weeks` weeks before `now`; how many."""
    oldest = week_of(now - keep_weeks * 7 * 86400)
    doomed = [key for key, _ in await store.scan(STATS) if key.partition(":")[0] < oldest]
    for key in doomed:
        await store.delete(STATS, key)
    return len(doomed)


async def totals(store: Store) -> dict[str, dict[str, int]]:
    """week -> level -> completed checks."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for key, record in await store.scan(STATS):
        week, _, level = key.partition(":")
        if level:
            out[week][level] = int(record.data.get("n", 0))
    return dict(out)


def shown(n: int) -> str:
    """A count as a wellness lead may see it."""
    return f"<{SMALL}" if 0 < n < SMALL else str(n)


def render(table: dict[str, dict[str, int]], tr: Translator, levels: tuple[str, ...],
           weeks: int = 8) -> str:
    """Totals as text: per level (most urgent first) a bar per week, small counts hidden."""
    recent = sorted(table)[-weeks:]
    if not recent:
        return tr.t("stats.title") + "\n\n" + tr.t("stats.empty")
    top = max(max(table[w].values(), default=0) for w in recent) or 1
    lines = [tr.t("stats.title"), tr.t("stats.note", small=SMALL), ""]
    for level in reversed(levels):
        lines.append(f"{tr.t(f'level.{level}.icon')} {tr.t(f'stats.level.{level}')}")
        for week in recent:
            n = table[week].get(level, 0)
            bar = "█" * max(1, round(BAR * n / top)) if n >= SMALL else ("▏" if n else "")
            lines.append(f"  {week}  " + " ".join(part for part in (bar, shown(n)) if part))
        lines.append("")
    total = {w: sum(table[w].values()) for w in recent}
    lines.append(tr.t("stats.total") + " " + ", ".join(f"{w}: {shown(total[w])}" for w in recent))
    return "\n".join(lines)
