"""What travels with a web turn besides its body: the session id (an HttpOnly cookie on
the bot's own page, or the `X-Backcheck-Session` header the widget's frame holds), the
cookie's flags, the origin (CORS for the listed sites only) and the client address (for
the rate limit; never kept as such). Nothing here reads the App or words anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from aiohttp import web

from bot.adapters.web.inbound import valid_session
from bot.adapters.web.settings import WebSettings
from bot.keys import parse_keys

COOKIE = "backcheck_session"
HEADER = "X-Backcheck-Session"


class SessionIds:
    """The session ids this server issues: 32 random bytes and a MAC of them under a key
    derived from BACKCHECK_SECRET_KEY (any configured key verifies, the first signs), so
    replicas agree and an id the server never issued is refused, not given a check."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._keys = [hmac.new(k, b"backcheck web session ids", hashlib.sha256).digest()
                      for k in keys]

    @classmethod
    def of(cls, secret: str) -> SessionIds:
        """From BACKCHECK_SECRET_KEY."""
        return cls(parse_keys(secret))

    @classmethod
    def random(cls) -> SessionIds:
        """A key of this process only (tests; a server started without settings)."""
        return cls([secrets.token_bytes(32)])

    def issue(self) -> str:
        """A new session id."""
        random = secrets.token_urlsafe(32)
        return f"{random}.{self._mac(self._keys[0], random)}"

    def issued(self, session_id: str | None) -> bool:
        """Whether this server (or a replica with the same key) issued this id."""
        if not valid_session(session_id):
            return False
        random, _, mac = (session_id or "").partition(".")
        return any(hmac.compare_digest(mac, self._mac(k, random)) for k in self._keys)

    @staticmethod
    def _mac(key: bytes, random: str) -> str:
        digest = hmac.new(key, random.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_of(request: web.Request) -> tuple[str | None, bool]:
    """(session id, whether the page holds it in a header rather than a cookie)."""
    if HEADER in request.headers:
        return request.headers[HEADER].strip(), True
    return request.cookies.get(COOKIE), False


def set_cookie(response: web.StreamResponse, session: str, *, secure: bool,
               max_age: float) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS."""
    response.set_cookie(COOKIE, session, path="/", httponly=True, samesite="Strict",
                        secure=secure, max_age=int(max_age))


def forget_cookie(response: web.StreamResponse) -> None:
    """Delete the session cookie (after "forget")."""
    response.del_cookie(COOKIE, path="/")


def secure(request: web.Request, settings: WebSettings) -> bool:
    """Whether the cookie is Secure: as BACKCHECK_WEB_SECURE_COOKIE says, or (auto) when
    the request came over HTTPS, directly or through a proxy that says so."""
    mode = settings.secure_cookie
    if mode != "auto":
        return mode == "true"
    return request.secure or forwarded_proto(request).lower() == "https"


def own_origin(request: web.Request, settings: WebSettings) -> str:
    """The origin the page itself is served from (its own requests are not foreign)."""
    scheme = request.scheme
    if settings.trust_proxy and request.headers.get("X-Forwarded-Proto"):
        scheme = forwarded_proto(request)
    return f"{scheme}://{request.host}".lower()


def forwarded_proto(request: web.Request) -> str:
    """The scheme a proxy says the request came over (its first X-Forwarded-Proto); ""
    when none says."""
    return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()


def foreign(request: web.Request, settings: WebSettings) -> bool:
    """A request from another site that is not listed in BACKCHECK_WEB_ORIGINS."""
    origin = request.headers.get("Origin")
    return bool(origin) and origin != own_origin(request, settings) and (
        origin not in settings.origins)


def allow_origin(request: web.Request, response: web.StreamResponse,
                 settings: WebSettings) -> None:
    """CORS for an API response: the listed origins only."""
    origin = request.headers.get("Origin", "")
    if origin in settings.origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"


def address(request: web.Request, settings: WebSettings) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded for)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if settings.trust_proxy and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.remote or ""
