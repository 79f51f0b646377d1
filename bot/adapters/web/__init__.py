"""The web chat: `backcheck web` serves the check as a page, an embeddable widget and a
small JSON API.

Rooms: inbound.py (a request body -> Incoming, pure), render.py (Reply -> the page's
JSON, pure), transport.py (the session and what goes back with a reply: cookie, header,
CORS), serve.py (the aiohttp application and `backcheck web`), limits.py (rate limits),
settings.py (BACKCHECK_WEB_* as one value), static/ (the page, its script and style,
widget.js). No outbox: a web page cannot be written to days later.

A web session is anonymous: a random id the server signs and the page holds (cookie or
header), which is the chat and the user of its `SessionKey`, so
`backcheck forget --user web:<session id>` deletes one browser's check.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot.platform import Capabilities, Platform
from bot.types import SessionKey
from bot.variables import Bad, Var

NAME = "web"
# A session id is issued by the server: 32 random bytes and their HMAC (transport.SessionIds),
# so an id the server never issued is refused, whatever its shape.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}")
SECURE_COOKIE = ("auto", "true", "false")
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def session_key(session_id: str) -> SessionKey:
    """The conversation of one anonymous browser session: the id is the chat and the user."""
    return SessionKey(NAME, NAME, session_id, session_id)


def person_of(parts: list[str], settings: Any) -> str | None:
    """`web:<session id>`: the person key of that browser session."""
    if len(parts) != 1 or not SESSION_ID.fullmatch(parts[0]):
        return None
    return session_key(parts[0]).person()


def origins(raw: str) -> tuple[str, ...]:
    """`https://a.example, http://localhost:8000` -> the origins, normalized (lower case,
    no trailing slash); Bad for anything that is not scheme://host[:port]."""
    out: list[str] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = urlsplit(item.rstrip("/"))
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise Bad from None
        if (parts.scheme not in ("http", "https") or not parts.hostname
                or parts.path or parts.query or parts.fragment or parts.username):
            raise Bad
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(out))


def secure_cookie(raw: str) -> str:
    """auto, true or false (yes/no/1/0 too)."""
    value = raw.strip().lower()
    if value in BOOLEANS:
        return "true" if BOOLEANS[value] else "false"
    if value not in SECURE_COOKIE:
        raise Bad
    return value


def boolean(raw: str) -> bool:
    """true or false (yes/no/1/0 too)."""
    try:
        return BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise Bad from None


def positive(raw: str) -> int:
    """A positive whole number."""
    if not raw.isdigit() or int(raw) <= 0:
        raise Bad
    return int(raw)


PLATFORM = Platform(
    name=NAME,
    person_of=person_of,
    person_example="web:<session id> (the 66-character backcheck_session cookie)",
    # The page shows the person's own choice itself; it cannot be written to later, and a
    # page is always one person's: no shared chats.
    capabilities=Capabilities(anonymous=True),
    cli="bot.adapters.web.serve",
    variables=(
        Var("BACKCHECK_WEB_ORIGINS", "web_origins",
            "comma-separated origins that may embed the widget, scheme://host[:port], e.g. "
            "https://www.example.org,https://intranet.example.com", origins, default=()),
        Var("BACKCHECK_WEB_SECURE_COOKIE", "web_secure_cookie",
            "auto (Secure when the request came over HTTPS), true or false", secure_cookie,
            default="auto"),
        Var("BACKCHECK_WEB_TRUST_PROXY", "web_trust_proxy",
            "true (take the address and scheme from X-Forwarded-For/-Proto) or false",
            boolean, default=False),
        Var("BACKCHECK_WEB_SESSION_RATE", "web_session_rate",
            "a positive whole number of turns a minute per session, e.g. 30", positive,
            default=30),
        Var("BACKCHECK_WEB_ADDRESS_RATE", "web_address_rate",
            "a positive whole number of requests a minute per address, e.g. 300", positive,
            default=300),
        Var("BACKCHECK_WEB_MAX_BODY", "web_max_body",
            "a positive whole number of bytes an API request body may have, e.g. 8192",
            positive, default=8192),
    ),
)
