"""Every port the bot listens on is served the same guarded way.

- a body cap: a request body over MAX_BODY bytes is refused with 413 before it is read
  whole (Telegram updates and Slack payloads are a few kilobytes);
- read timeouts: a connection has HEADER_TIMEOUT seconds to send its request line and
  headers, and a request BODY_TIMEOUT seconds to send its body (408), so a slow client
  cannot hold connections open;
- security headers on every response: nothing here is a page to frame, sniff, cache or
  refer from — unless a handler says otherwise for its own response: one that sets its
  own Content-Security-Policy (a page, whose frame-ancestors name the sites that may embed
  it) keeps it and gets no X-Frame-Options (which cannot name those sites), and one that
  sets its own Cache-Control keeps it. Every other header is always added.

Adapters build their aiohttp servers with `application()` and start them with
`serve()` (a `runner()` set up on a TCP site) instead of `web.Application()` and
`web.AppRunner()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

MAX_BODY = 256 * 1024
HEADER_TIMEOUT = 10.0  # seconds from connecting (or the last response) to a whole header
BODY_TIMEOUT = 10.0  # seconds to receive a request's body
LINGER = 1.0  # seconds the rest of a refused body is read (and dropped) before closing

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Server": "backcheck",  # not aiohttp's and Python's versions
}

OWN = ("Content-Security-Policy", "Cache-Control")  # a handler may set its own

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def application(*, max_body: int = MAX_BODY,
                middlewares: Sequence[Middleware] = ()) -> web.Application:
    """An aiohttp application with the body cap, the body timeout and the headers.
    `middlewares` (the adapter's own) run outside the guards, so they see a refused body
    (413) or a slow one (408) and may word the answer."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(BODY_TIMEOUT):
                    await request.read()  # kept by aiohttp: the handler reads it again
            except TimeoutError:
                timed_out = web.Response(status=408, text="request body too slow")
                timed_out.force_close()  # the rest of the body will not be read
                return timed_out
        return await handler(request)

    app = web.Application(client_max_size=max_body,
                          middlewares=[*middlewares, read_body_in_time])
    app.on_response_prepare.append(_add_headers)
    return app


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    own = {name for name in OWN if name in response.headers}
    for name, value in HEADERS.items():
        if name in own or (name == "X-Frame-Options" and "Content-Security-Policy" in own):
            continue
        response.headers[name] = value


def runner(app: web.Application, **kwargs: Any) -> web.AppRunner:
    """An AppRunner that closes a connection which has not sent a whole request header
    within HEADER_TIMEOUT seconds of connecting or of its last response (aiohttp's
    keep-alive timer, which runs from the connection's start), and after a refused
    request reads what is left of its body for LINGER seconds at most."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=HEADER_TIMEOUT,
                         lingering_time=LINGER, **kwargs)


async def serve(server: web.Application, host: str, port: int) -> web.AppRunner:
    """`server` started on host:port (port 0: any free port) by a guarded `runner`; the
    caller awaits `runner.cleanup()` at shutdown. One that cannot start (the port is
    taken) is cleaned up here, since the caller never gets it."""
    started = runner(server)
    try:
        await started.setup()
        await web.TCPSite(started, host, port).start()
    except BaseException:
        await started.cleanup()
        raise
    return started
