"""Telegram flood control: a 429 is waited out, for up to about a minute, never dropped
after a fixed few tries.

PTB's AIORateLimiter already does the waiting: on `RetryAfter` it holds every request
for the `retry_after` Telegram names, then sends again, up to `max_retries` times. A count
is the wrong limit, though: three tries of a 1 s wait give up after 3 s, while one try of
a 5-minute wait blocks the bot for 5 minutes. `PatientRateLimiter` limits the total time
instead: it keeps retrying as long as the next wait still ends within `patience` seconds
of the first attempt, and otherwise fails at once with `FloodWait` (a TelegramError, so
the adapter's error handler counts it and apologises), without waiting in vain.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

PATIENCE = 60.0  # seconds a message may spend waiting out 429s before it is given up
MAX_RETRIES = 30  # a backstop only: `patience` is the real limit

Result = bool | dict[str, Any] | list[dict[str, Any]]


class FloodWait(TelegramError):
    """Telegram asked for a wait that would end past the patience: the request failed."""


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 warns when `retry_after` is read
    as an int; both forms are accepted here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class PatientRateLimiter(AIORateLimiter):
    """AIORateLimiter whose retries are limited by total time (`patience`), not a count."""

    def __init__(self, patience: float = PATIENCE, max_retries: int = MAX_RETRIES) -> None:
        super().__init__(max_retries=max_retries)
        self.patience = patience

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        deadline = time.monotonic() + self.patience

        async def attempt(*a: Any, **kw: Any) -> Result:
            try:
                return await callback(*a, **kw)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if time.monotonic() + wait > deadline:
                    raise FloodWait(f"flood control: retry after {wait:g} s is past the "
                                    f"{self.patience:g} s patience") from exc
                raise

        return await super().process_request(attempt, args, kwargs, endpoint, data,
                                              rate_limit_args)
