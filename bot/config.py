"""Settings from the environment (and `.env`), validated at start, failing loudly and by name.

Every variable is described once, in `VARIABLES`: its name, what a right value looks
like, and whether it is a secret. A wrong value raises ConfigError with one line naming
the variable and what is expected (never showing a secret); `Settings.require` does the
same for the variables a subcommand cannot run without. `backcheck config` prints the
effective configuration with secrets masked.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values, load_dotenv
from platformdirs import user_data_dir

from bot import platforms
from bot.engine.loader import LOCALES_DIR
from bot.errors import ConfigError
from bot.i18n import locale_langs
from bot.keys import parse_keys
from bot.review.version import running_content, short, version_of
from bot.stores.location import sqlite_file
from bot.variables import Bad, Var, matching, one_of, seconds

REGIONS = ("SE", "GB", "US")
LANGS = locale_langs(LOCALES_DIR)  # one per locale file: adding sv.yaml adds Swedish
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENV_FILE = "BACKCHECK_ENV_FILE"  # where `.env` is read from (environment only)

HEX_VERSION = re.compile(r"[0-9a-f]{12,64}")
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def default_store_url() -> str:
    """SQLite in the user's data directory, created on first use."""
    return f"sqlite://{Path(user_data_dir('backcheck')).absolute() / 'sessions.sqlite3'}"


def _store(raw: str) -> str:
    try:
        if raw == "memory://" or sqlite_file(raw) is not None:
            return raw
    except ValueError:
        raise Bad from None
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise Bad
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise Bad from None
    if parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise Bad
    return raw


def _secret_keys(raw: str) -> str:
    try:
        parse_keys(raw)
    except ValueError:
        raise Bad from None
    return raw


def listen_port(raw: str) -> int:
    """A TCP port number, 1-65535."""
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise Bad
    return int(raw)


def listen_host(raw: str) -> str:
    """An address to listen on: an IP address (127.0.0.1, 0.0.0.0, ::1) or a host name."""
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not HOST_NAME.fullmatch(raw):
            raise Bad from None
    return raw


def _existing_file(raw: str) -> str:
    if not Path(raw).is_file():
        raise Bad
    return raw


def parse_admins(raw: str) -> frozenset[str]:
    """`<platform>:<user id>,...` -> {"<platform>:<user id>", ...}; each id checked against
    its platform's user-id form. The one place BACKCHECK_ADMINS is read."""
    items = [part.strip() for part in raw.split(",") if part.strip()]
    for item in items:
        name, _, user = item.partition(":")
        platform = platforms.get(name)
        if platform is None or not platform.is_user_id(user):
            raise Bad
    return frozenset(items)


def is_admin(admins: frozenset[str], platform: str, user: str) -> bool:
    """Whether this person is one of `admins` (parsed BACKCHECK_ADMINS) and so may see the
    anonymous totals."""
    return f"{platform}:{user}" in admins


def _admin_example() -> str:
    return ",".join(f"{p.name}:{p.user_id_example}" for p in platforms.PLATFORMS
                    if p.user_id_example) or "platform:ID"


GENERAL: tuple[Var, ...] = (
    Var("BACKCHECK_STORE", "store", "memory://, sqlite:///absolute/path, "
        "sqlite:./relative/path (from the working directory) or redis://host:6379/0", _store),
    Var("BACKCHECK_SECRET_KEY", "secret_key", "comma-separated keys made by `backcheck keys "
        "new` (the first encrypts, all decrypt)", _secret_keys, secret=True),
    Var("BACKCHECK_SESSION_TTL", "session_ttl", "a positive number of seconds, e.g. 86400",
        seconds, default=86400.0),
    Var("BACKCHECK_REGION", "region", f"one of {', '.join(REGIONS)}", one_of(REGIONS),
        default="SE"),
    Var("BACKCHECK_LANG", "default_lang", f"one of {', '.join(LANGS)}", one_of(LANGS),
        default="en"),
    Var("BACKCHECK_FLOW", "flow", "the path of an existing flow YAML file", _existing_file),
    Var("BACKCHECK_CARE_FILE", "care_file", "the path of an existing YAML file of the "
        "workplace's own places of care (see docs/care.md)", _existing_file),
    Var("BACKCHECK_LOG_LEVEL", "log_level", f"one of {', '.join(LOG_LEVELS)}",
        one_of(LOG_LEVELS, upper=True), default="INFO"),
    Var("BACKCHECK_LOG_FORMAT", "log_format", "text or json", one_of(("text", "json")),
        default="text"),
    Var("BACKCHECK_SHUTDOWN_TIMEOUT", "shutdown_timeout",
        "a positive number of seconds to finish updates in flight, e.g. 20", seconds,
        default=20.0),
    Var("BACKCHECK_SIGNED_VERSION", "signed_version", "the content version a clinician "
        "signed off, 12-64 hex digits as `backcheck review` prints it", matching(HEX_VERSION)),
    Var("BACKCHECK_ADMINS", "admins", "comma-separated platform:user-id, "
        f"e.g. {_admin_example()}", parse_admins, default=frozenset()),
    Var("BACKCHECK_METRICS_PORT", "metrics_port", "a port number 1-65535 for /metrics, "
        "e.g. 9100 (unset: metrics are not served)", listen_port, default=None),
    Var("BACKCHECK_METRICS_HOST", "metrics_host", "an address to serve /metrics on, e.g. "
        "127.0.0.1 or 0.0.0.0", listen_host, default="127.0.0.1"),
)
# Every variable: backcheck's own, then each platform's, in registry order.
VARIABLES: tuple[Var, ...] = GENERAL + tuple(
    v for p in platforms.PLATFORMS for v in p.variables)
BY_NAME = {v.name: v for v in VARIABLES}
BY_FIELD = {v.field: v for v in VARIABLES}


class Settings:
    """Every setting backcheck reads, by field name: the general ones are typed attributes;
    a platform's own (e.g. its token) are read with `settings.<field>` or `get(field)`.
    Immutable; `replace` makes a changed copy. Secrets are masked by `masked()`."""

    store: str
    secret_key: str
    session_ttl: float
    region: str
    default_lang: str
    flow: str
    care_file: str
    log_level: str
    log_format: str
    shutdown_timeout: float
    admins: frozenset[str]
    signed_version: str
    metrics_port: int | None
    metrics_host: str

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(BY_FIELD)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        if isinstance(values.get("admins"), str):
            values["admins"] = parse_admins(values["admins"])
        merged = {v.field: v.default for v in VARIABLES}
        if "store" not in values:
            merged["store"] = default_store_url()
        merged.update(values)
        object.__setattr__(self, "_values", merged)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings are immutable: use replace()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self.as_dict().items())))

    def __repr__(self) -> str:
        return f"Settings({self.masked()})"

    def as_dict(self) -> dict[str, Any]:
        """Every setting by field name."""
        return dict(self.__dict__["_values"])

    def get(self, field: str) -> str:
        """A setting as text, by field name (a platform reads its token this way)."""
        return str(self.__dict__["_values"][field])

    def replace(self, **changes: Any) -> Settings:
        """A copy with these settings changed."""
        return Settings(**{**self.as_dict(), **changes})

    def is_admin(self, platform: str, user: str) -> bool:
        """Whether this person may see the anonymous totals (BACKCHECK_ADMINS)."""
        return is_admin(self.admins, platform, user)

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
        it should hold. Each subcommand demands what it needs (its platform's token)."""
        for name in names:
            if not self.is_set(name):
                raise ConfigError(f"{name} is not set: expected {BY_NAME[name].expected}")

    def is_set(self, name: str) -> bool:
        """Whether the variable called `name` has a value (not empty)."""
        return bool(getattr(self, BY_NAME[name].field))

    def secret_values(self) -> tuple[str, ...]:
        """The configured secret values (tokens, signing secrets, a store password), for
        the log filter that keeps them out of every line."""
        found = [str(getattr(self, v.field)) for v in VARIABLES if v.secret]
        found.append(urlsplit(self.store).password or "")
        return tuple(s for s in found if s)

    def masked(self) -> dict[str, str]:
        """The effective settings as text, every secret masked (see `mask`), by field name."""
        out: dict[str, str] = {}
        for var in VARIABLES:
            raw = getattr(self, var.field)
            if raw is None:
                value = ""
            elif isinstance(raw, bool):
                value = "true" if raw else "false"
            elif isinstance(raw, float):
                value = f"{raw:g}"
            elif isinstance(raw, frozenset):
                value = ",".join(sorted(raw))
            elif isinstance(raw, tuple):
                value = ",".join(raw)
            else:
                value = str(raw)
            if var.secret:
                value = mask(value)
            elif var.field == "store":
                value = mask_url(value)
            out[var.field] = value
        return out


def _parsed(var: Var, raw: str) -> object:
    try:
        return var.parse(raw)
    except Bad:
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
    from bot.engine.loader import ROOT
    from bot.wellness.settings import WellnessSettings

    w = WellnessSettings.from_env(env)
    return {
        "BACKCHECK_ROOT": str(ROOT),
        "BACKCHECK_TIPS_CRON": w.tips_cron,
        "BACKCHECK_TIPS_TZ": w.tips_tz,
        "BACKCHECK_TIPS_TARGETS": ",".join(f"{p}:{i}" for p, i in w.tips_targets),
        "BACKCHECK_FOLLOWUP_DAYS": f"{w.followup_days:g}",
        "BACKCHECK_STATS_WEEKS": str(w.stats_weeks),
    }


def store_place(url: str) -> str:
    """Where a store URL keeps its data, for operators: the SQLite file as an absolute
    path, else the URL with any password masked."""
    path = sqlite_file(url)
    return f"the SQLite file {path}" if path is not None else mask_url(url)


def content_line(settings: Settings) -> str:
    """The content version of what the bots load (see `backcheck review`)."""
    version = short(version_of(running_content(settings)))
    parts = "flow, locales, tips" + (", care file" if settings.care_file else "")
    return f"# content version ({parts}): {version}"


def _show(args: argparse.Namespace) -> int:
    path = env_file_path()
    print(f"# backcheck configuration (secrets masked); .env: "
          f"{path.resolve() if path.is_file() else 'none'}")
    settings = Settings.from_env()
    for line in describe(settings):
        print(line)
    print(f"# store: {store_place(settings.store)}")
    print(content_line(settings))
    return 0


def register(sub: Any) -> None:
    """Add `backcheck config`."""
    p = sub.add_parser(
        "config", help="print the effective configuration, secrets masked",
        description="Print every setting as NAME=value with where it came from "
                    "(environment, .env, default or not set), secrets masked, and the "
                    "version of the content in place. Every value is checked first.")
    p.set_defaults(handler=_show)
