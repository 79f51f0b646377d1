"""The web chat's own settings, BACKCHECK_WEB_*, read and checked by name like every other.

    BACKCHECK_WEB_ORIGINS         origins that may embed the widget: https://shop.example.org,...
    BACKCHECK_WEB_SECURE_COOKIE   auto (Secure when the request came over HTTPS), true, false
    BACKCHECK_WEB_TRUST_PROXY     true: take the address and scheme from X-Forwarded-For/-Proto
    BACKCHECK_WEB_SESSION_RATE    turns a minute one session may take (default 30)
    BACKCHECK_WEB_ADDRESS_RATE    requests a minute from one address (default 300)
    BACKCHECK_WEB_MAX_BODY        bytes an API request body may have (default 8192)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import ConfigError

SECURE_COOKIE = ("auto", "true", "false")
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def parse_origins(raw: str) -> tuple[str, ...]:
    """`https://a.example, http://localhost:8000` -> the origins, normalized (lower case,
    no trailing slash); ConfigError for anything that is not scheme://host[:port]."""
    out: list[str] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = urlsplit(item.rstrip("/"))
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (parts.scheme not in ("http", "https") or not parts.hostname or port == -1
                or parts.path or parts.query or parts.fragment or parts.username):
            raise ConfigError(f"BACKCHECK_WEB_ORIGINS: {item!r} is not an origin; expected "
                              "comma-separated scheme://host[:port], e.g. "
                              "https://www.example.org,https://intranet.example.com")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(out))


def _positive_int(env: Mapping[str, str], name: str, default: int, what: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive whole number of {what}, "
                          f"e.g. {default}")
    return int(raw)


def _boolean(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if raw and raw not in allowed and raw not in BOOLEANS:
        raise ConfigError(f"{name}={raw!r}: expected one of {', '.join(allowed)}")
    if raw in BOOLEANS:
        return "true" if BOOLEANS[raw] else "false"
    return raw or allowed[0]


@dataclass(frozen=True)
class WebSettings:
    """What `backcheck web` needs beyond the shared settings."""

    origins: tuple[str, ...] = ()
    secure_cookie: str = "auto"
    trust_proxy: bool = False
    session_rate: int = 30
    address_rate: int = 300
    max_body: int = 8192

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Read and check every BACKCHECK_WEB_* variable; ConfigError names a wrong one."""
        env = os.environ if env is None else env
        return cls(
            origins=parse_origins(env.get("BACKCHECK_WEB_ORIGINS", "")),
            secure_cookie=_boolean(env, "BACKCHECK_WEB_SECURE_COOKIE", SECURE_COOKIE),
            trust_proxy=_boolean(env, "BACKCHECK_WEB_TRUST_PROXY", ("false", "true")) == "true",
            session_rate=_positive_int(env, "BACKCHECK_WEB_SESSION_RATE", 30,
                                       "turns a minute"),
            address_rate=_positive_int(env, "BACKCHECK_WEB_ADDRESS_RATE", 300,
                                       "requests a minute"),
            max_body=_positive_int(env, "BACKCHECK_WEB_MAX_BODY", 8192, "bytes"),
        )

    def described(self) -> dict[str, str]:
        """The effective values by variable, for `backcheck config`."""
        return {
            "BACKCHECK_WEB_ORIGINS": ",".join(self.origins),
            "BACKCHECK_WEB_SECURE_COOKIE": self.secure_cookie,
            "BACKCHECK_WEB_TRUST_PROXY": "true" if self.trust_proxy else "false",
            "BACKCHECK_WEB_SESSION_RATE": str(self.session_rate),
            "BACKCHECK_WEB_ADDRESS_RATE": str(self.address_rate),
            "BACKCHECK_WEB_MAX_BODY": str(self.max_body),
        }
