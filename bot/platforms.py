"""The platform registry: every platform backcheck runs on, one line each.

Adding a platform is one package under `bot/adapters/<name>/` exporting a `PLATFORM`
(see `bot/platform.py`) and one line here. `bot.config`, `bot.logs`, `bot.wellness` and
`bot.cli` loop over `PLATFORMS`; no other module names a platform.
"""

from __future__ import annotations

from bot.adapters import console, slack, teams, telegram, web
from bot.platform import Platform

PLATFORMS: tuple[Platform, ...] = (
    console.PLATFORM,
    telegram.PLATFORM,
    slack.PLATFORM,
    web.PLATFORM,
    teams.PLATFORM,
)

BY_NAME: dict[str, Platform] = {p.name: p for p in PLATFORMS}


def get(name: str) -> Platform | None:
    """The platform called `name`, or None."""
    return BY_NAME.get(name)


def with_outbox() -> tuple[Platform, ...]:
    """The platforms that can post tips and follow-ups (wellness targets)."""
    return tuple(p for p in PLATFORMS if p.outbox)


def tip_target_example() -> str:
    """An example BACKCHECK_TIPS_TARGETS value: one target per platform with an outbox."""
    return ",".join(f"{p.name}:{p.tip_target_example}" for p in with_outbox())
