"""Anonymous totals for wellness leads: completed checks per ISO week and level.

Only counters are stored (`<year>-W<week>:<level>` -> n): no user id, no answer. Any
count below 5 is shown as "<5" so no one can be singled out. Weeks older than
BACKCHECK_STATS_WEEKS (default 104) are deleted when a new week's first count is made.

Suppression is complementary: a week's total is shown only when none of its counts is
hidden. With the exact total beside them, one hidden count is the total minus the rest,
and several are as good as known when their sum leaves one choice (two hidden counts
summing to 2 are 1 and 1), so a week with any hidden count shows its total as hidden
too. Nothing else ties the numbers together: zero shows as 0, the bars are scaled to the
largest count shown, and there are no totals per level across weeks. A reader then knows
of each hidden count only that it is 1-4, whatever else is shown
(tests/test_wellness.py proves it over every small table).
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
    return f"<{SMALL}" if hidden(n) else str(n)


def hidden(n: int) -> bool:
    """Whether a count is too small to show (0 is shown: it singles no one out)."""
    return 0 < n < SMALL


def shown_total(counts: dict[str, int], tr: Translator) -> str:
    """A week's total as a wellness lead may see it: hidden whenever one of the week's
    counts is, so no hidden count can be worked out from the total and the rest."""
    if any(hidden(n) for n in counts.values()):
        return tr.t("stats_hidden.total")
    return str(sum(counts.values()))


def render(table: dict[str, dict[str, int]], tr: Translator, levels: tuple[str, ...],
           weeks: int = 8) -> str:
    """Totals as text: per level (most urgent first) a bar per week, small counts hidden,
    and a week's total hidden with them."""
    recent = sorted(table)[-weeks:]
    if not recent:
        return tr.t("stats.title") + "\n\n" + tr.t("stats.empty")
    top = max((n for w in recent for n in table[w].values() if not hidden(n)), default=0) or 1
    lines = [tr.t("stats.title"), tr.t("stats.note", small=SMALL),
             tr.t("stats_hidden.note"), ""]
    for level in reversed(levels):
        lines.append(f"{tr.t(f'level.{level}.icon')} {tr.t(f'stats.level.{level}')}")
        for week in recent:
            n = table[week].get(level, 0)
            bar = "█" * max(1, round(BAR * n / top)) if n >= SMALL else ("▏" if n else "")
            lines.append(f"  {week}  " + " ".join(part for part in (bar, shown(n)) if part))
        lines.append("")
    lines.append(tr.t("stats.total") + " " + ", ".join(
        f"{w}: {shown_total(table[w], tr)}" for w in recent))
    return "\n".join(lines)
