"""Logging: text or JSON lines on stderr, and nothing in them that must not be there.

`setup_logging(settings)` is called once at start (by `backcheck`'s main). Every line
passes through `Redactor`, which replaces anything that looks like a token — each
platform's `token_patterns` (bot/platforms.py), also inside URLs, and the configured
secrets themselves — with `[redacted]`, whoever logged it and at any level.

Conventions for backcheck's own log calls (SPEC §8):
- a person appears only as `SessionKey.hashed()` (or `who(key)`), never a user id;
- node ids, platform names, kinds of events and error class names are fine;
- an answer, a message text or a token never is.
Structured fields go in `extra=` with the names in `FIELDS`; other extras are dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

from bot.config import Settings
from bot.platforms import PLATFORMS
from bot.types import SessionKey

REDACTED = "[redacted]"
TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    pattern for p in PLATFORMS for pattern in p.token_patterns)
# Structured fields a log call may add with `extra=`; anything else is not written.
FIELDS = ("user", "platform", "kind", "node", "level", "seconds", "error")
# Libraries that log URLs (with the bot token) or request bodies (with message text) below
# these levels: they never go lower, whatever BACKCHECK_LOG_LEVEL says.
# Each platform names its own libraries' floors (`Platform.log_levels`).
LIBRARY_FLOORS: dict[str, int] = {
    "aiohttp.access": logging.WARNING,
    "asyncio": logging.WARNING,
    **{name: level for p in PLATFORMS for name, level in p.log_levels},
}


def who(key: SessionKey) -> str:
    """The only way a person appears in a log line: a short pseudonymous hash."""
    return key.hashed()


class Redactor:
    """Replaces token-looking strings and the configured secrets in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is replaced whole
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return self.redact(f"{line} {extra}" if extra else line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the FIELDS given, and the
    exception if any — every string redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        clean = {k: self.redact(v) if isinstance(v, str) else v for k, v in data.items()}
        return json.dumps(clean, ensure_ascii=False, default=str)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: record.__dict__[k] for k in FIELDS if k in record.__dict__}


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (so test captures work), never stdout:
    `backcheck chat --json` keeps stdout for its JSON lines."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(settings: Settings) -> logging.Handler:
    """Send every log line to stderr as text or JSON lines (BACKCHECK_LOG_FORMAT) at
    BACKCHECK_LOG_LEVEL, redacted. Calling it again replaces the previous setup; other
    handlers (a test's log capture) are left alone. Returns the handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    redact = Redactor(settings.secret_values())
    handler = StderrHandler()
    handler.setFormatter(
        JsonFormatter(redact) if settings.log_format == "json" else TextFormatter(redact))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    level = logging.getLevelNamesMapping()[settings.log_level]
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, level))
    logging.captureWarnings(True)
    return handler
