"""What travels with a web turn besides its body: the session id (an HttpOnly cookie on
the bot's own page, or the `X-Backcheck-Session` header the widget's frame holds), the
cookie's flags, the origin (CORS for the listed sites only) and the client address (for
the rate limit; never kept as such). Nothing here reads the App or words anything.
"""

from __future__ import annotations

from aiohttp import web

from bot.adapters.web.settings import WebSettings

COOKIE = "backcheck_session"
HEADER = "X-Backcheck-Session"


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
