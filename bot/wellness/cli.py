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
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.adapters import slack, slack_wellness, telegram, telegram_wellness
from bot.app import App, build_app
from bot.config import LANGS, Settings
from bot.errors import ConfigError, DeliveryError
from bot.types import Reply, SessionKey
from bot.wellness import stats
from bot.wellness.scheduler import Outbox, Scheduler
from bot.wellness.settings import WellnessSettings
from bot.wellness.tips import next_tip

TOKENS = {"slack": "SLACK_BOT_TOKEN", "telegram": "TELEGRAM_BOT_TOKEN"}


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


@contextlib.asynccontextmanager
async def telegram_outbox(app: App, settings: Settings) -> AsyncIterator[Outbox]:
    """A connected Telegram outbox outside the running bot."""
    # The token's form was checked by Settings; setup_logging keeps httpx, which would log
    # request URLs (and so the token), at WARNING.
    application = telegram.build_application(app, settings.telegram_bot_token,
                                             settings.telegram_api_base_url)
    await telegram.connect(application)
    try:
        yield telegram_wellness.TelegramOutbox(application.bot)
    finally:
        await application.shutdown()


@contextlib.asynccontextmanager
async def slack_outbox(app: App, settings: Settings) -> AsyncIterator[Outbox]:
    """A Slack outbox outside the running bot (no request is served)."""
    yield slack_wellness.outbox(slack.create(app, settings))


OPENERS = {"slack": slack_outbox, "telegram": telegram_outbox}


async def post_tip(settings: Settings, wellness: WellnessSettings) -> int:
    """Post the next tip to every reachable target and print where it went."""
    app = build_app(settings, wellness=wellness)
    tokens = {"slack": settings.slack_bot_token, "telegram": settings.telegram_bot_token}
    wanted = sorted({platform for platform, _ in wellness.tips_targets})
    try:
        async with contextlib.AsyncExitStack() as stack:
            outboxes = {p: Tally(await stack.enter_async_context(OPENERS[p](app, settings)))
                        for p in wanted if tokens[p]}
            if not outboxes:
                names = " and ".join(TOKENS[p] for p in wanted)
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
        result = box.results.get(target, "") if box else f"skipped: {TOKENS[platform]} is not set"
        failed = failed or result.startswith("failed")
        print(f"  {platform}:{target}  {result}")
    return 1 if failed else 0


def _post(args: argparse.Namespace) -> int:
    settings, wellness = Settings.from_env(), WellnessSettings.from_env()
    if not wellness.tips_targets:
        raise ConfigError("BACKCHECK_TIPS_TARGETS is not set: name the channels and groups to "
                          "post to, e.g. slack:C0123ABCD,telegram:-1001234567890")
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
    tips = subparsers.add_parser("tips", help="wellness tips for Slack channels and Telegram "
                                              "groups (BACKCHECK_TIPS_*)")
    actions = tips.add_subparsers(dest="tips_command", required=True)
    post = actions.add_parser("post", help="post the next tip now to every "
                                           "BACKCHECK_TIPS_TARGETS target")
    post.set_defaults(handler=_post)
    parser = subparsers.add_parser("stats", help="anonymous totals of completed checks per "
                                                 "week and level (counts below 5 as <5)")
    parser.add_argument("--lang", choices=LANGS, help="language of the headings "
                                                      "(default BACKCHECK_LANG)")
    parser.set_defaults(handler=_stats)
