"""Graceful shutdown: on SIGTERM or SIGINT stop taking updates, finish the ones in flight,
close the store, exit 0.

An adapter's serve function is two callables and this module:

    async def start() -> None: ...            # connect, start receiving
    async def stop() -> None:                 # the reverse, in this order:
        ...                                   #   1. stop receiving updates
        await shutdown(app, settings.shutdown_timeout,   # 2. finish in-flight, 3. close store
                       pending=...)           #  (the adapter's own queued work, if any)
    await run_until_signal(start, stop)

`app.in_flight` (bot/inflight.py) counts every `App.handle` call; an adapter that does
more per update than `handle` (sending the replies) wraps the whole update in
`async with app.in_flight.track(): ...` so shutdown waits for the replies to be sent too.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("backcheck.lifecycle")

SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def shutdown(app: App, timeout: float = 20.0,
                   pending: Awaitable[object] | None = None) -> bool:
    """Finish the updates in flight (up to `timeout` s), then close the store. Call it
    after the adapter has stopped taking updates. `pending` is the adapter's own part of
    finishing (updates PTB has queued, Slack requests acknowledged but not yet worked on),
    awaited first within the same `timeout` and cancelled if it outlasts it. True when
    none was cut off."""
    tracker = app.in_flight
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
