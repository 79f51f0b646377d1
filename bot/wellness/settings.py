"""Wellness settings from the environment, validated by name like every other setting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.errors import ConfigError
from bot.platforms import tip_target_example, with_outbox
from bot.wellness.stats import STATS_WEEKS


def parse_targets(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """`<platform>:<channel or group id>,...` -> ((platform, id), ...), for the platforms
    that have an outbox (bot/platforms.py)."""
    names = tuple(p.name for p in with_outbox())
    out = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        platform, _, ident = item.partition(":")
        if platform not in names or not ident:
            raise ConfigError(f"{name}: {item!r} is not <platform>:<id> with platform "
                              f"{' or '.join(names)}, e.g. {tip_target_example()}")
        out.append((platform, ident))
    return tuple(out)


@dataclass(frozen=True)
class WellnessSettings:
    """When and where tips go and how long until a follow-up."""

    tips_cron: str = ""
    tips_tz: str = "Europe/Stockholm"
    tips_targets: tuple[tuple[str, str], ...] = ()
    followup_days: float = 7.0
    stats_weeks: int = STATS_WEEKS  # anonymous weekly totals older than this are deleted

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WellnessSettings:
        """Read and check BACKCHECK_TIPS_*, BACKCHECK_FOLLOWUP_DAYS and
        BACKCHECK_STATS_WEEKS."""
        env = os.environ if env is None else env
        tz = env.get("BACKCHECK_TIPS_TZ", "") or "Europe/Stockholm"
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"BACKCHECK_TIPS_TZ={tz!r}: expected an IANA time zone such as "
                              "Europe/Stockholm") from None
        cron = env.get("BACKCHECK_TIPS_CRON", "").strip()
        if cron:
            try:
                CronTrigger.from_crontab(cron, timezone=zone)
            except ValueError as exc:
                raise ConfigError(f"BACKCHECK_TIPS_CRON={cron!r}: expected a cron expression "
                                  f"such as '0 9 * * MON' ({exc})") from None
        raw_days = env.get("BACKCHECK_FOLLOWUP_DAYS", "") or "7"
        try:
            days = float(raw_days)
        except ValueError:
            days = -1.0
        if days <= 0:
            raise ConfigError(f"BACKCHECK_FOLLOWUP_DAYS={raw_days!r}: expected a positive "
                              "number of days, e.g. 7")
        weeks = (env.get("BACKCHECK_STATS_WEEKS", "") or str(STATS_WEEKS)).strip()
        if not weeks.isdigit() or int(weeks) < 1:
            raise ConfigError(f"BACKCHECK_STATS_WEEKS={weeks!r}: expected a whole number of "
                              f"weeks to keep the anonymous totals, e.g. {STATS_WEEKS}")
        return cls(cron, tz, parse_targets("BACKCHECK_TIPS_TARGETS",
                                           env.get("BACKCHECK_TIPS_TARGETS", "")),
                   days, int(weeks))

    def trigger(self) -> CronTrigger | None:
        """The tip schedule, or None when no schedule is set."""
        if not self.tips_cron:
            return None
        return CronTrigger.from_crontab(self.tips_cron, timezone=ZoneInfo(self.tips_tz))
