"""The web chat's own settings, BACKCHECK_WEB_*, as one small value.

The variables are declared (with their parsers and what a right value looks like) in the
package's `PLATFORM` (bot/adapters/web/__init__.py), so `bot.config` reads and checks
them with every other setting and `backcheck config` shows them:

    BACKCHECK_WEB_ORIGINS         origins that may embed the widget: https://shop.example.org,...
    BACKCHECK_WEB_SECURE_COOKIE   auto (Secure when the request came over HTTPS), true, false
    BACKCHECK_WEB_TRUST_PROXY     true: take the address and scheme from X-Forwarded-For/-Proto
    BACKCHECK_WEB_SESSION_RATE    turns a minute one session may take (default 30)
    BACKCHECK_WEB_ADDRESS_RATE    requests a minute from one address (default 300)
    BACKCHECK_WEB_MAX_BODY        bytes an API request body may have (default 8192)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Settings


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
    def of(cls, settings: Settings) -> WebSettings:
        """The web chat's view of the (already checked and parsed) settings."""
        return cls(origins=settings.web_origins,
                   secure_cookie=settings.web_secure_cookie,
                   trust_proxy=settings.web_trust_proxy,
                   session_rate=settings.web_session_rate,
                   address_rate=settings.web_address_rate,
                   max_body=settings.web_max_body)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Read and check every setting; ConfigError names a wrong one."""
        return cls.of(Settings.from_env(env))
