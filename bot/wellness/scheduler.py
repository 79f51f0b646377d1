"""The wellness scheduler, run inside `backcheck slack` / `backcheck telegram`: posts the
tip of each scheduled slot and delivers due follow-ups, once across all replicas.

Adapters hand it an Outbox per platform; the scheduler never knows how a platform
renders a post, only where it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from bot.app import App
from bot.errors import DeliveryError, StoreError, VersionConflict
from bot.stores.base import ONCE, TIPS
from bot.types import Reply, SessionKey
from bot.wellness import followup
from bot.wellness.tips import TIPS_FILE, load_tips, next_tip, tip_message

log = logging.getLogger("backcheck.wellness")

SLOT_TTL = 14 * 86400.0


class Outbox(Protocol):
    """What a platform adapter offers the scheduler."""

    platform: str

    async def post_tip(self, target: str, text: str, button: str) -> None:
        """Post a tip with a "Take the 5-minute check" button to a channel or group.
        Raises DeliveryError when the platform will not take it."""
        ...

    async def send(self, key: SessionKey, replies: Sequence[Reply]) -> None:
        """Send replies to a person's private chat. Raises DeliveryError when the platform
        will not take them."""
        ...


class Scheduler:
    """Tips on a cron schedule and due follow-ups; `run` loops until cancelled."""

    def __init__(self, app: App, outboxes: Mapping[str, Outbox], *, poll: float = 30.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.app, self.outboxes, self.poll, self.sleep = app, outboxes, poll, sleep
        self.tips = load_tips(TIPS_FILE, app.locales)
        self.trigger = app.wellness.trigger()

    def targets(self) -> list[tuple[str, str]]:
        """The configured targets this process can reach."""
        return [(p, t) for p, t in self.app.wellness.tips_targets if p in self.outboxes]

    async def post_now(self, tip: str | None = None) -> int:
        """Post the next tip (or `tip`) to every reachable target; return how many posts."""
        tip = tip or await next_tip(self.app.store, self.tips)
        return await self._post(tip)

    async def _post(self, tip: str) -> int:
        tr = self.app.locales.translator(self.app.default_lang, self.app.region)
        text, button = tip_message(tr, tip)
        posted = 0
        for platform, target in self.targets():
            try:
                await self.outboxes[platform].post_tip(target, text, button)
            except DeliveryError as exc:  # one channel's trouble must not cost the others
                log.warning("tip not posted to %s:%s: %s", platform, target, exc)
                continue
            posted += 1
        log.info("posted tip %s to %d targets", tip, posted)
        return posted

    async def fire(self, slot: dt.datetime) -> bool:
        """Post the slot's tip unless another replica of this platform already did."""
        stamp = slot.astimezone(dt.UTC).isoformat()
        platforms = sorted(self.outboxes)
        try:
            await self.app.store.put(ONCE, f"tip:{'+'.join(platforms)}:{stamp}",
                                     {"at": stamp}, version=0, ttl=SLOT_TTL)
        except VersionConflict:
            return False
        await self._post(await self._slot_tip(stamp))
        return True

    async def _slot_tip(self, stamp: str) -> str:
        """One tip per slot, whichever platforms post it."""
        record = await self.app.store.get(TIPS, f"slot:{stamp}")
        if record is not None:
            return str(record.data["tip"])
        tip = await next_tip(self.app.store, self.tips)
        try:
            await self.app.store.put(TIPS, f"slot:{stamp}", {"tip": tip}, version=0,
                                     ttl=SLOT_TTL)
        except VersionConflict:
            record = await self.app.store.get(TIPS, f"slot:{stamp}")
            return str(record.data["tip"]) if record else tip
        return tip

    async def deliver_followups(self) -> int:
        """Send every due follow-up this process can reach; return how many."""
        sent = 0
        for key, lang in await followup.claim_due(self.app, set(self.outboxes)):
            try:
                await self.outboxes[key.platform].send(key, [followup.ask(self.app, lang)])
            except DeliveryError as exc:  # e.g. blocked the bot: retried once after the claim
                log.warning("follow-up not sent to user %s: %s", key.hashed(), exc)
                continue
            await followup.done(self.app, key)
            sent += 1
        return sent

    async def tick(self, last: dt.datetime) -> dt.datetime:
        """One round: fire every slot due since `last`, deliver follow-ups; the new `last`."""
        now = dt.datetime.fromtimestamp(self.app.clock(), dt.UTC)
        if self.trigger is not None and self.targets():
            slot = self.trigger.get_next_fire_time(None, last)
            while slot is not None and slot <= now:
                await self.fire(slot)
                slot = self.trigger.get_next_fire_time(slot, slot + dt.timedelta(seconds=1))
        await self.deliver_followups()
        return now

    async def run(self) -> None:
        """Tick every `poll` seconds until cancelled; store trouble is logged and retried."""
        last = dt.datetime.fromtimestamp(self.app.clock(), dt.UTC)
        while True:
            try:
                last = await self.tick(last)
            except StoreError as exc:
                log.warning("wellness scheduler: store unavailable (%s)", type(exc).__name__)
            except Exception:  # an adapter failure must not stop the schedule
                log.exception("wellness scheduler round failed")
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # stopped while a library swallowed it
                raise asyncio.CancelledError
            await self.sleep(self.poll)


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[asyncio.Task[None]]:
    """Run the scheduler in the background while the bot serves; cancel it cleanly after."""
    task = asyncio.get_running_loop().create_task(scheduler.run(), name="backcheck-wellness")
    try:
        yield task
    finally:
        # Python 3.11's wait_for (used inside redis-py) can swallow a cancellation that
        # arrives as its inner call completes: cancel until the task has really ended.
        task.cancel()
        while not (await asyncio.wait({task}, timeout=1.0))[0]:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            task.result()
