"""Graceful shutdown: on SIGTERM or SIGINT stop taking updates, finish the ones in flight,
close the store, exit 0.

An adapter's serve function is two callables and this module:

    async def start() -> None: ...            # connect, start receiving
    async def stop() -> None:                 # the reverse, in this order:
        ...                                   #   1. stop receiving updates
        await shutdown(app, settings.shutdown_timeout,   # 2. finish in-flight, 3. close store
                       pending=...)           #  (the adapter's own queued work, if any)
    await run_until_signal(start, stop)

`in_flight(app)` counts every `App.handle` call (installed by `bot.ops.instrument`, which
`build_app` calls); an adapter that does more per update than `handle` (sending the
replies) wraps the whole update in `async with in_flight(app).track(): ...` so shutdown
waits for the replies to be sent too.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from bot.app import App, Turn

log = logging.getLogger("backcheck.lifecycle")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
POLL = 0.01  # seconds between looks at the in-flight count while draining


class InFlight:
    """How many updates are being handled right now, and whether we are stopping."""

    def __init__(self) -> None:
        self.count = 0
        self.stopping = False

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Count the enclosed work as one update in flight."""
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1

    async def middleware(self, incoming: Incoming, turn: Turn) -> list[Reply]:
        """An `App.middleware` entry: every `handle` call is tracked."""
        async with self.track():
            return await turn(incoming)

    async def drain(self, timeout: float) -> bool:
        """Mark the app as stopping and wait (up to `timeout` s) until nothing is in flight.
        True when everything finished. Updates that arrive meanwhile are waited for too."""
        self.stopping = True
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            await asyncio.sleep(POLL)
        return self.count == 0


_TRACKERS: WeakKeyDictionary[App, InFlight] = WeakKeyDictionary()


def in_flight(app: App) -> InFlight:
    """The app's in-flight tracker, installed as its outermost middleware on first use."""
    tracker = _TRACKERS.get(app)
    if tracker is None:
        tracker = _TRACKERS[app] = InFlight()
        app.middleware.insert(0, tracker.middleware)
    return tracker


async def shutdown(app: App, timeout: float = 20.0,
                   pending: Awaitable[object] | None = None) -> bool:
    """Finish the updates in flight (up to `timeout` s), then close the store. Call it
    after the adapter has stopped taking updates. `pending` is the adapter's own part of
    finishing (updates PTB has queued, Slack requests acknowledged but not yet worked on),
    awaited first within the same `timeout` and cancelled if it outlasts it. True when
    none was cut off."""
    tracker = in_flight(app)
    tracker.stopping = True
    deadline = time.monotonic() + timeout
    finished = await _settle(pending, timeout) if pending is not None else True
    finished = await tracker.drain(max(0.0, deadline - time.monotonic())) and finished
    if finished:
        log.info("all updates in flight finished")
    else:
        log.warning("%d updates still in flight after %g s; closing anyway",
                    tracker.count, timeout)
    await app.store.close()
    return finished


async def _settle(pending: Awaitable[object], timeout: float) -> bool:
    """Await `pending` for up to `timeout` s; True when it finished (failing is logged)."""
    task = asyncio.ensure_future(pending)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)  # let it unwind; never wait long
        return False
    if not task.cancelled() and task.exception() is not None:
        log.warning("finishing the adapter's updates failed: %s",
                    type(task.exception()).__name__)
    return True


@contextmanager
def on_signals(callback: Callable[[], object],
               signals: tuple[signal.Signals, ...] = SIGNALS) -> Iterator[None]:
    """Call `callback` (in the running event loop) on SIGTERM or SIGINT while inside.
    Leaving restores the default, so a second Ctrl-C during shutdown ends at once."""
    loop = asyncio.get_running_loop()

    def received(sig: signal.Signals) -> None:
        log.info("received %s: stopping", sig.name)
        callback()

    for sig in signals:
        loop.add_signal_handler(sig, received, sig)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def run_until_signal(start: Callable[[], Awaitable[None]],
                           stop: Callable[[], Awaitable[None]],
                           signals: tuple[signal.Signals, ...] = SIGNALS) -> None:
    """Run `start()`, wait for SIGTERM or SIGINT, then run `stop()`. `stop` also runs when
    `start` fails part-way, so it must cope with a partial start."""
    stopping = asyncio.Event()
    try:
        with on_signals(stopping.set, signals):
            await start()
            await stopping.wait()
    finally:
        await stop()
