"""Settings from the environment (and `.env`), validated at start, failing loudly and by name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from platformdirs import user_data_dir

from bot.errors import ConfigError

REGIONS = ("SE", "GB", "US")
LANGS = ("en", "sv")


def default_store_url() -> str:
    """SQLite in the user's data directory, created on first use."""
    return f"sqlite:///{Path(user_data_dir('backcheck')) / 'sessions.sqlite3'}"


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of seconds, e.g. 86400") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive number of seconds")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "") or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate; raise ConfigError naming the first wrong variable."""
        env = os.environ if env is None else env
        store = env.get("BACKCHECK_STORE", "") or default_store_url()
        if not store.startswith(("memory://", "sqlite:///", "redis://", "rediss://")):
            raise ConfigError(
                f"BACKCHECK_STORE={store!r}: expected memory://, sqlite:///path or redis://host:port/db"
            )
        return cls(
            store=store,
            session_ttl=_positive(env, "BACKCHECK_SESSION_TTL", 86400.0),
            region=_choice(env, "BACKCHECK_REGION", "SE", REGIONS),
            default_lang=_choice(env, "BACKCHECK_LANG", "en", LANGS),
            flow=env.get("BACKCHECK_FLOW", ""),
            log_level=_choice(
                env, "BACKCHECK_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")
            ),
            log_format=_choice(env, "BACKCHECK_LOG_FORMAT", "text", ("text", "json")),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", ""),
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL", "")
            or "https://api.telegram.org/bot",
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
            slack_bot_token=env.get("SLACK_BOT_TOKEN", ""),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            slack_app_token=env.get("SLACK_APP_TOKEN", ""),
            slack_api_url=env.get("SLACK_API_URL", "") or "https://slack.com/api/",
            admins=env.get("BACKCHECK_ADMINS", ""),
        )

    def masked(self) -> dict[str, str]:
        """The effective settings as text, with every secret shown as its last 4 characters."""
        secret = ("token", "secret")
        out: dict[str, str] = {}
        for f in fields(self):
            value = str(getattr(self, f.name))
            if any(s in f.name for s in secret) and value:
                value = "****" + value[-4:]
            out[f.name] = value
        return out
