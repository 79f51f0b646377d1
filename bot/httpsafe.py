"""Every port the bot listens on is served the same guarded way.

- a body cap: a request body over MAX_BODY bytes is refused with 413 before it is read
  whole (Telegram updates and Slack payloads are a few kilobytes); one that does not
  decode (a bad Content-Encoding) with 400, never a 500;
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
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
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

# Client faults aiohttp raises while reading a request: not ours, logged at INFO by name.
CLIENT_FAULTS = (HttpProcessingError, web.RequestPayloadError)


class ServerLog(logging.Filter):
    """aiohttp's server log without what a log must not hold: the client's address ("Error
    handling request from 127.0.0.1") and, for a request the client got wrong (an
    over-long header, a body that does not decode), the exception text, which quotes raw
    header values — a session cookie among them. Those become one INFO line naming the
    fault; the bot's own errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and " from %s" in record.msg:
            record.msg, record.args = record.msg.replace(" from %s", ""), ()
        fault = _client_fault(record.exc_info[1] if record.exc_info else None)
        if fault is not None:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "request refused: %s", (type(fault).__name__,)
            record.exc_info, record.exc_text = None, None
        return True


def _client_fault(exc: BaseException | None) -> BaseException | None:
    """The client's fault behind an exception (its cause or context too), if any."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, CLIENT_FAULTS):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


log = logging.getLogger("backcheck.http")  # aiohttp's server log, through ServerLog
log.addFilter(ServerLog())

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
            except (web.RequestPayloadError, HttpProcessingError) as exc:
                # a body that does not decode (a bad Content-Encoding, a broken chunk)
                log.info("request refused: body does not decode (%s)", type(exc).__name__)
                raise web.HTTPBadRequest(text="request body does not decode") from None
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
    keep-alive timer, which runs from the connection's start), after a refused request
    reads what is left of its body for LINGER seconds at most, and logs through
    `ServerLog` (no address, no header value)."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=HEADER_TIMEOUT,
                         lingering_time=LINGER, logger=log, **kwargs)


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
