"""The two ways to extend the App, both handed to its constructor (never attached later):

- a `Middleware` wraps every turn (`App.handle`): metrics time it, the in-flight tracker
  counts it;
- an `Observer` is told what happened: a turn changed a conversation (`turned`), or a
  turn or an adapter failed (`failed`, with a small fixed `kind` such as "store" or
  "send").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.engine.machine import State
from bot.types import Incoming, Reply

# One update in, the replies out; a middleware wraps one.
Turn = Callable[[Incoming], Awaitable[list[Reply]]]
Middleware = Callable[[Incoming, Turn], Awaitable[list[Reply]]]


class Observer(Protocol):
    """Told about every turn and every failure; must not raise and must not block."""

    def turned(self, incoming: Incoming, before: State | None, after: State | None) -> None:
        """A turn ran: the conversation before (None if new) and after (None if ended)."""

    def failed(self, platform: str, kind: str) -> None:
        """Something failed: the store during a turn, or an adapter's send."""
