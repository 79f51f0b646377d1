"""The Slack adapter's Web API client: quiet logs, and 429s waited out, not dropped.

Slack answers a rate-limited call with HTTP 429 and a `Retry-After` header (seconds).
slack_sdk's own handler waits that long (plus up to 1 s of jitter) and sends again, but
only `max_retry_count` times. `PatientRateLimitRetry` keeps retrying as long as the waits
add up to at most `patience` seconds (about a minute), so a busy minute loses nothing;
past that the call fails and the adapter counts it (`backcheck_errors_total{kind=
"rate_limited"}`).
"""

from __future__ import annotations

import asyncio
import logging
import random

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

PATIENCE = 60.0  # seconds a call may spend waiting out 429s in all
MAX_RETRIES = 30  # a backstop only: `patience` is the real limit
LOGGER = "backcheck.slack.bolt"
# Library failures that end one request's work; logged by type, never with content.
TRANSPORT_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)


def retry_after(response: HttpResponse) -> float:
    """The wait a 429 asks for, in seconds (1 when the header is missing or unreadable)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0] if isinstance(values, list) else values))
            except ValueError:
                break
    return 1.0


class PatientRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After, while the waits add up to at most `patience` s."""

    def __init__(self, patience: float = PATIENCE, max_retry_count: int = MAX_RETRIES) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.patience = patience

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _waited(state) + retry_after(response) <= self.patience

    async def prepare_for_next_attempt_async(
            self, *, state: RetryState, request: HttpRequest,
            response: HttpResponse | None = None, error: Exception | None = None) -> None:
        assert response is not None  # only 429 responses are retried
        wait = retry_after(response) + random.random()  # jitter, as slack_sdk does
        state.custom_values = {**(state.custom_values or {}), "waited": _waited(state) + wait}
        state.next_attempt_requested = True
        await asyncio.sleep(wait)
        state.increment_current_attempt()


def _waited(state: RetryState) -> float:
    return float((state.custom_values or {}).get("waited", 0.0))


def quiet_logger() -> logging.Logger:
    """The logger Bolt and the SDK get. They log request bodies (message text) at INFO and
    DEBUG: keep it at WARNING. Bolt also reads SLACK_BOT_TOKEN itself and warns that our
    client's token wins: it does."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    if not logger.filters:
        logger.addFilter(lambda record: "`token` will be unused" not in str(record.msg))
    return logger


def web_client(settings: Settings, patience: float = PATIENCE) -> AsyncWebClient:
    """The Web API client for SLACK_API_URL: connection errors retried once (the SDK's
    default), 429s waited out for up to `patience` s."""
    retries: list[AsyncRetryHandler] = [*async_default_handlers(),
                                        PatientRateLimitRetry(patience)]
    return AsyncWebClient(token=settings.get("slack_bot_token"),
                          base_url=settings.get("slack_api_url"),
                          logger=quiet_logger(), retry_handlers=retries)
