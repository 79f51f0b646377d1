"""Health and metrics: `GET /healthz` (200 when the store answers, 503 when not) on every
port the bot listens on, and `GET /metrics` (Prometheus text format) on its own listener.

`/metrics` is never served on a public port (the web chat's, Slack's HTTP endpoint, the
Telegram webhook's): its per-level counters, read before and after a colleague takes the
check, would tell their result. It is served only where BACKCHECK_METRICS_PORT (or a bot's
`--metrics-port`) says, on BACKCHECK_METRICS_HOST (127.0.0.1 unless it says otherwise);
with neither set, nowhere.

`Metrics` is one App's metrics registry. `bot.compose.build_app` creates it and hands
it to the App's constructor twice: as a middleware (times and counts every update) and
as an observer (counts checks started — a check's first answer — and completed by triage
level, and failures: the store's during a turn and what adapters report with
`App.report`). Adapters add /healthz to their own aiohttp server with
`add_ops_routes(server, app)`, and start the metrics listener with `start_metrics`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from bot import httpsafe
from bot.config import Settings
from bot.engine.flow import Flow
from bot.engine.machine import State
from bot.engine.triage import level_of
from bot.errors import ConfigError, StoreError
from bot.hooks import Turn
from bot.inflight import InFlight
from bot.logs import who
from bot.types import Incoming, Reply

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("backcheck.ops")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what every Prometheus reads
HEALTH_TIMEOUT = 3.0  # seconds a store may take to answer before /healthz says 503
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One App's counters and latency histogram, in a registry of its own."""

    def __init__(self, flow: Flow, tracker: InFlight | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created noise
        self.flow = flow
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.updates = Counter("backcheck_updates", "Updates handled (App.handle calls)",
                               ["platform"], registry=r)
        self.checks_started = Counter("backcheck_checks_started",
                                      "Checks started (the first answer of a check)",
                                      ["platform"], registry=r)
        self.checks_completed = Counter("backcheck_checks_completed",
                                        "Checks completed, by triage level",
                                        ["platform", "level"], registry=r)
        self.errors = Counter("backcheck_errors",
                              "Errors: store failures during a turn, unexpected exceptions, "
                              "and what adapters report", ["platform", "kind"], registry=r)
        self.handle_seconds = Histogram("backcheck_handle_seconds",
                                        "Seconds to handle one update (App.handle)",
                                        ["platform"], buckets=BUCKETS, registry=r)
        if tracker is not None:
            in_flight_now = Gauge("backcheck_updates_in_flight", "Updates being handled now",
                                  registry=r)
            in_flight_now.set_function(lambda: tracker.count)

    async def middleware(self, incoming: Incoming, turn: Turn) -> list[Reply]:
        """Count and time one update; count an exception that escapes `handle`."""
        platform = incoming.key.platform
        self.updates.labels(platform).inc()
        start = time.perf_counter()
        try:
            return await turn(incoming)
        except Exception:
            self.errors.labels(platform, "internal").inc()
            raise
        finally:
            seconds = time.perf_counter() - start
            self.handle_seconds.labels(platform).observe(seconds)
            log.debug("update handled", extra={
                "user": who(incoming.key), "platform": platform, "kind": incoming.kind,
                "seconds": round(seconds, 6)})

    def turned(self, incoming: Incoming, before: State | None, after: State | None) -> None:
        """Observer: a check starts with its first answer and completes when the outcome
        is reached."""
        if after is None:
            return
        platform = incoming.key.platform
        if after.answers and not (before is not None and before.answers):
            self.checks_started.labels(platform).inc()
        if after.done and not (before is not None and before.done):
            # Not logged: a level or the node reached next to a user hash tells too much.
            self.checks_completed.labels(platform, level_of(self.flow, after.answers)).inc()

    def failed(self, platform: str, kind: str) -> None:
        """Observer: a turn the store made fail (the person got an apology), or an
        adapter's own error."""
        self.errors.labels(platform, kind).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of this App's metrics."""
        return generate_latest(self.registry)


def metrics_of(app: App) -> Metrics:
    """The Metrics the App was built with; an App built without any gets an empty one
    (so /metrics still answers)."""
    found = [o for o in app.observers if isinstance(o, Metrics)]
    return found[0] if found else Metrics(app.flow, app.in_flight)


async def healthz(app: App, timeout: float = HEALTH_TIMEOUT) -> tuple[int, dict[str, str]]:
    """(200, {"status": "ok"}) when the store answers a ping within `timeout` s; else
    (503, {"status": "unavailable", "store": <error class>}); (503, {"status":
    "stopping"}) once shutdown has begun, so a load balancer sends updates elsewhere."""
    if app.in_flight.stopping:
        return 503, {"status": "stopping"}
    try:
        await asyncio.wait_for(app.store.ping(), timeout)
    except (StoreError, TimeoutError) as exc:
        return 503, {"status": "unavailable", "store": type(exc).__name__}
    return 200, {"status": "ok"}


def add_ops_routes(server: web.Application, app: App) -> None:
    """Add GET /healthz to an aiohttp application (before it starts): the one operations
    route a public port serves."""

    async def health(request: web.Request) -> web.Response:
        status, body = await healthz(app)
        return web.json_response(body, status=status)

    server.router.add_get("/healthz", health)


def add_metrics_route(server: web.Application, app: App) -> None:
    """Add GET /metrics: only ever to the metrics listener (`start_ops_server`)."""
    metrics = metrics_of(app)

    async def exposition(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    server.router.add_get("/metrics", exposition)


async def start_ops_server(app: App, host: str, port: int, *,
                           metrics: bool = True) -> web.AppRunner:
    """Serve /healthz and /metrics on host:port (port 0: any free port): the metrics
    listener; with `metrics=False` /healthz only (Slack Socket Mode's `--port`, which has
    no other HTTP server). The caller awaits `runner.cleanup()` at shutdown."""
    server = httpsafe.application()
    add_ops_routes(server, app)
    if metrics:
        add_metrics_route(server, app)
    runner = await httpsafe.serve(server, host, port)
    log.info("%s on http://%s:%d", "health and metrics" if metrics else "health", host,
             bound_port(runner))
    return runner


def metrics_listener_port(settings: Settings, override: int | None = None,
                 public: tuple[int | None, ...] = ()) -> int | None:
    """Where /metrics is served: `override` (a bot's --metrics-port), else
    BACKCHECK_METRICS_PORT, else nowhere (None). ConfigError when that is one of the
    bot's `public` ports, where everyone could read it."""
    chosen: int | None = override or settings.metrics_port
    if chosen and chosen in public:
        raise ConfigError(f"BACKCHECK_METRICS_PORT={chosen}: expected a port of its own, "
                          "not the bot's public port")
    return chosen


async def start_metrics(app: App, settings: Settings, port: int | None) -> web.AppRunner | None:
    """The metrics listener on BACKCHECK_METRICS_HOST:`port` (see `metrics_listener_port`), or None
    (and a log line saying so) when no port is set."""
    if not port:
        log.info("metrics not served: BACKCHECK_METRICS_PORT is not set")
        return None
    return await start_ops_server(app, settings.metrics_host, port)


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful after asking for port 0)."""
    return int(runner.addresses[0][1])
