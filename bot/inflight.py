"""How many updates are being handled right now, and whether the bot is stopping.

The App's outermost middleware (it counts every `App.handle`); adapters that do more per
update than `handle` (sending the replies) wrap the whole update in
`async with app.in_flight.track(): ...`, so shutdown (bot/lifecycle.py) waits for the
replies to be sent too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.hooks import Turn
from bot.types import Incoming, Reply

POLL = 0.01  # seconds between looks at the in-flight count while draining


class InFlight:
    """A counter of updates in flight and a stopping flag."""

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
        """Track every `handle` call."""
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
