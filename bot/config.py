"""Settings from the environment (and `.env`), validated at start, failing loudly and by name.

Every variable is described once, in `VARIABLES`: its name, what a right value looks
like, and whether it is a secret. A wrong value raises ConfigError with one line naming
the variable and what is expected (never showing a secret); `Settings.require` does the
same for the variables a subcommand cannot run without. `backcheck config` prints the
effective configuration with secrets masked.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values, load_dotenv
from platformdirs import user_data_dir

from bot.errors import ConfigError

REGIONS = ("SE", "GB", "US")
LANGS = ("en", "sv")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENV_FILE = "BACKCHECK_ENV_FILE"  # where `.env` is read from (environment only)

TELEGRAM_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,64}")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
NO_SPACE = re.compile(r"\S+")


def default_store_url() -> str:
    """SQLite in the user's data directory, created on first use."""
    return f"sqlite:///{Path(user_data_dir('backcheck')) / 'sessions.sqlite3'}"


class _Bad(ValueError):
    """A value does not fit; the caller names the variable and what is expected."""


@dataclass(frozen=True)
class Var:
    """One environment variable: the Settings field it fills and how it is checked."""

    name: str
    field: str
    expected: str  # what a right value looks like, for the one-line error
    parse: Callable[[str], object] = str
    secret: bool = False


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _Bad from None
    if not 0 < value < float("inf"):
        raise _Bad
    return value


def _one_of(allowed: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw
        if value not in allowed:
            raise _Bad
        return value

    return parse


def _matching(pattern: re.Pattern[str], prefix: str = "") -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(prefix) or not pattern.fullmatch(raw.removeprefix(prefix)):
            raise _Bad
        return raw

    return parse


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Bad
    return raw


def _slack_api_url(raw: str) -> str:
    """slack_sdk appends the method name to the base URL, so it must end with '/'."""
    return _http_url(raw).rstrip("/") + "/"


def _store(raw: str) -> str:
    if raw == "memory://" or (raw.startswith("sqlite:///") and len(raw) > len("sqlite:///")):
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise _Bad
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _Bad from None
    if parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise _Bad
    return raw


def _flow(raw: str) -> str:
    if not Path(raw).is_file():
        raise _Bad
    return raw


def _admins(raw: str) -> str:
    """`slack:U0123ABCD,telegram:123456789`: user ids, one platform each."""
    items = [part.strip() for part in raw.split(",") if part.strip()]
    for item in items:
        platform, _, user = item.partition(":")
        ok = (platform == "slack" and SLACK_USER.fullmatch(user)) or (
            platform == "telegram" and user.isdigit())
        if not ok:
            raise _Bad
    return ",".join(items)


VARIABLES: tuple[Var, ...] = (
    Var("BACKCHECK_STORE", "store", "memory://, sqlite:///path or redis://host:6379/0", _store),
    Var("BACKCHECK_SESSION_TTL", "session_ttl", "a positive number of seconds, e.g. 86400",
        _seconds),
    Var("BACKCHECK_REGION", "region", f"one of {', '.join(REGIONS)}", _one_of(REGIONS)),
    Var("BACKCHECK_LANG", "default_lang", f"one of {', '.join(LANGS)}", _one_of(LANGS)),
    Var("BACKCHECK_FLOW", "flow", "the path of an existing flow YAML file", _flow),
    Var("BACKCHECK_LOG_LEVEL", "log_level", f"one of {', '.join(LOG_LEVELS)}",
        _one_of(LOG_LEVELS, upper=True)),
    Var("BACKCHECK_LOG_FORMAT", "log_format", "text or json", _one_of(("text", "json"))),
    Var("BACKCHECK_SHUTDOWN_TIMEOUT", "shutdown_timeout",
        "a positive number of seconds to finish updates in flight, e.g. 20", _seconds),
    Var("BACKCHECK_ADMINS", "admins", "comma-separated platform:user-id, "
        "e.g. slack:U0123ABCD,telegram:123456789", _admins),
    Var("TELEGRAM_BOT_TOKEN", "telegram_bot_token", "the token from @BotFather, "
        "<digits>:<30-64 letters, digits, - or _>", _matching(TELEGRAM_TOKEN), secret=True),
    Var("TELEGRAM_API_BASE_URL", "telegram_api_base_url",
        "an http(s) URL such as https://api.telegram.org/bot", _http_url),
    Var("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret",
        "1-256 characters A-Z, a-z, 0-9, _ or -", _matching(WEBHOOK_SECRET), secret=True),
    Var("SLACK_BOT_TOKEN", "slack_bot_token", "the app's Bot User OAuth Token, xoxb-...",
        _matching(NO_SPACE, "xoxb-"), secret=True),
    Var("SLACK_SIGNING_SECRET", "slack_signing_secret",
        "the app's Signing Secret (Basic Information page), without spaces",
        _matching(NO_SPACE), secret=True),
    Var("SLACK_APP_TOKEN", "slack_app_token", "an app-level token for Socket Mode, xapp-...",
        _matching(NO_SPACE, "xapp-"), secret=True),
    Var("SLACK_API_URL", "slack_api_url", "an http(s) URL such as https://slack.com/api/",
        _slack_api_url),
)
BY_NAME = {v.name: v for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """Every setting backcheck reads. Secrets are masked by `masked()`."""

    store: str = field(default_factory=default_store_url)
    session_ttl: float = 86400.0
    region: str = "SE"
    default_lang: str = "en"
    flow: str = ""
    log_level: str = "INFO"
    log_format: str = "text"
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: str = ""
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    admins: str = ""
    shutdown_timeout: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; raise ConfigError naming the first wrong variable.
        An unset or empty variable takes its default. `env` defaults to os.environ
        (which `load_env_file` fills from `.env` at start)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for var in VARIABLES:
            raw = env.get(var.name, "").strip()
            if raw:
                values[var.field] = _parsed(var, raw)
        return cls(**values)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first of these variables that is not set, and what
        it should hold. Each subcommand demands what it needs, e.g.
        `settings.require("TELEGRAM_BOT_TOKEN")`."""
        for name in names:
            var = BY_NAME[name]
            if not getattr(self, var.field):
                raise ConfigError(f"{name} is not set: expected {var.expected}")

    def secret_values(self) -> tuple[str, ...]:
        """The configured secret values (tokens, signing secrets, a store password), for
        the log filter that keeps them out of every line."""
        found = [str(getattr(self, v.field)) for v in VARIABLES if v.secret]
        found.append(urlsplit(self.store).password or "")
        return tuple(s for s in found if s)

    def masked(self) -> dict[str, str]:
        """The effective settings as text, every secret masked (see `mask`), by field name."""
        out: dict[str, str] = {}
        for f in fields(self):
            raw = getattr(self, f.name)
            value = f"{raw:g}" if isinstance(raw, float) else str(raw)
            var = next((v for v in VARIABLES if v.field == f.name), None)
            if var is not None and var.secret:
                value = mask(value)
            elif f.name == "store":
                value = mask_url(value)
            out[f.name] = value
        return out


def _parsed(var: Var, raw: str) -> object:
    try:
        return var.parse(raw)
    except _Bad:
        shown = f"<{len(raw)} characters, not shown>" if var.secret else repr(mask_url(raw))
        raise ConfigError(f"{var.name}={shown}: expected {var.expected}") from None


def mask(secret: str) -> str:
    """A secret as shown to people: nothing of a short one, the last 4 characters of a
    long one (enough to tell two tokens apart)."""
    if not secret:
        return ""
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


def mask_url(url: str) -> str:
    """A URL with any password replaced by ****."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}****@{netloc}"))


def env_file_path(env: Mapping[str, str] | None = None) -> Path:
    """The `.env` to read: BACKCHECK_ENV_FILE, else `.env` in the working directory."""
    env = os.environ if env is None else env
    return Path(env.get(ENV_FILE, "") or ".env")


def load_env_file() -> Path | None:
    """Put the variables of `.env` into os.environ, never overriding one already set (the
    real environment and docker compose's `environment:` win). Called once at start."""
    path = env_file_path()
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def port(text: str) -> int:
    """An argparse type for --port / --metrics-port: 1-65535, named in the error."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, got {text!r}")
    return int(text)


# -- `backcheck config` -----------------------------------------------------------------


def describe(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """`NAME=value  # source` lines, secrets masked; the source is environment, .env,
    default or not set. The wellness settings (bot/wellness/settings.py) are included."""
    env = os.environ if env is None else env
    path = env_file_path(env)
    from_file = dotenv_values(path) if path.is_file() else {}

    def line(name: str, value: str) -> str:
        raw = env.get(name, "").strip()
        source = ("not set" if not value else "default") if not raw else (
            ".env" if (from_file.get(name) or "").strip() == raw else "environment")
        return f"{name}={value}  # {source}"

    shown = settings.masked()
    return [line(v.name, shown[v.field]) for v in VARIABLES] + [
        line(name, value) for name, value in _elsewhere(env).items()]


def _elsewhere(env: Mapping[str, str]) -> dict[str, str]:
    """The effective settings other modules read (and validate) themselves, by variable."""
    from bot.adapters.web.settings import WebSettings
    from bot.engine.loader import ROOT
    from bot.wellness.settings import WellnessSettings

    w = WellnessSettings.from_env(env)
    return {
        "BACKCHECK_ROOT": str(ROOT),
        "BACKCHECK_TIPS_CRON": w.tips_cron,
        "BACKCHECK_TIPS_TZ": w.tips_tz,
        "BACKCHECK_TIPS_TARGETS": ",".join(f"{p}:{i}" for p, i in w.tips_targets),
        "BACKCHECK_FOLLOWUP_DAYS": f"{w.followup_days:g}",
        **WebSettings.from_env(env).described(),
    }


def _show(args: argparse.Namespace) -> int:
    path = env_file_path()
    print(f"# backcheck configuration (secrets masked); .env: "
          f"{path.resolve() if path.is_file() else 'none'}")
    for line in describe(Settings.from_env()):
        print(line)
    return 0


def register(sub: Any) -> None:
    """Add `backcheck config`."""
    p = sub.add_parser("config", help="print the effective configuration, secrets masked")
    p.set_defaults(handler=_show)
