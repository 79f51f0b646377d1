"""`backcheck tips post` and `backcheck stats`: the wellness channels from the command line.

`tips post` posts the next tip of the rotation now, to every BACKCHECK_TIPS_TARGETS target
whose platform has a token, through the same outboxes the running bots use. `stats`
prints the anonymous totals from the configured store; whoever can run it can read the
store anyway, so there is no admin check here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from bot.compose import build_app
from bot.config import LANGS, Settings
from bot.errors import ConfigError, DeliveryError
from bot.platforms import BY_NAME, tip_target_example
from bot.types import Reply, SessionKey
from bot.wellness import stats
from bot.wellness.scheduler import Outbox, Scheduler
from bot.wellness.settings import WellnessSettings
from bot.wellness.tips import next_tip


class Tally:
    """An outbox that remembers where each post went, for the report."""

    def __init__(self, inner: Outbox) -> None:
        self.inner, self.platform = inner, inner.platform
        self.results: dict[str, str] = {}

    async def post_tip(self, target: str, text: str, button: str) -> None:
        try:
            await self.inner.post_tip(target, text, button)
        except DeliveryError as exc:
            self.results[target] = f"failed: {exc}"
            raise
        self.results[target] = "posted"

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        await self.inner.send(key, replies)


async def post_tip(settings: Settings, wellness: WellnessSettings) -> int:
    """Post the next tip to every reachable target and print where it went."""
    app = build_app(settings, wellness=wellness)
    wanted = sorted({platform for platform, _ in wellness.tips_targets})
    try:
        async with contextlib.AsyncExitStack() as stack:
            outboxes = {p: Tally(await stack.enter_async_context(
                            BY_NAME[p].load(BY_NAME[p].outbox)(app, settings)))
                        for p in wanted if settings.is_set(BY_NAME[p].token_variable)}
            if not outboxes:
                names = " and ".join(BY_NAME[p].token_variable for p in wanted)
                raise ConfigError(f"BACKCHECK_TIPS_TARGETS names {' and '.join(wanted)}, but "
                                  f"{names} {'is' if len(wanted) == 1 else 'are'} not set")
            scheduler = Scheduler(app, outboxes)
            tip = await next_tip(app.store, scheduler.tips)
            posted = await scheduler.post_now(tip)
    finally:
        await app.store.close()
    print(f"tip {tip!r} posted to {posted} of {len(wellness.tips_targets)} targets")
    failed = False
    for platform, target in wellness.tips_targets:
        box = outboxes.get(platform)
        result = (box.results.get(target, "") if box
                  else f"skipped: {BY_NAME[platform].token_variable} is not set")
        failed = failed or result.startswith("failed")
        print(f"  {platform}:{target}  {result}")
    return 1 if failed else 0


def _post(args: argparse.Namespace) -> int:
    settings, wellness = Settings.from_env(), WellnessSettings.from_env()
    if not wellness.tips_targets:
        raise ConfigError("BACKCHECK_TIPS_TARGETS is not set: name the channels and groups to "
                          f"post to, e.g. {tip_target_example()}")
    return asyncio.run(post_tip(settings, wellness))


async def totals(settings: Settings, lang: str) -> str:
    """The totals as a wellness lead sees them, from the configured store."""
    app = build_app(settings)
    try:
        table = await stats.totals(app.store)
    finally:
        await app.store.close()
    return stats.render(table, app.locales.translator(lang, app.region), app.flow.levels)


def _stats(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    print(asyncio.run(totals(settings, args.lang or settings.default_lang)))
    return 0


def register(subparsers: Any) -> None:
    """Add `backcheck tips post` and `backcheck stats`."""
    tips = subparsers.add_parser("tips", help="wellness tips for channels and groups "
                                              "(BACKCHECK_TIPS_*)")
    actions = tips.add_subparsers(dest="tips_command", required=True)
    post = actions.add_parser("post", help="post the next tip now to every "
                                           "BACKCHECK_TIPS_TARGETS target")
    post.set_defaults(handler=_post)
    parser = subparsers.add_parser("stats", help="anonymous totals of completed checks per "
                                                 "week and level (counts below 5 as <5)")
    parser.add_argument("--lang", choices=LANGS, help="language of the headings "
                                                      "(default BACKCHECK_LANG)")
    parser.set_defaults(handler=_stats)
