"""Web chat: turns per second and latency with 200 simultaneous browsers, next to a bare
aiohttp handler that does no work, measured in the same run.

    python -m bench.bench_web [--quick] [--json PATH]      (about 30 s; --quick 5 s)

`backcheck web` (SQLite store, rate limits raised out of the way) and the bare handler
each run as their own process; 200 browsers run in this one. Each browser opens the page's
API (GET /api/state: a new session, the intro and question 1), then answers question after
question with the buttons' option ids (POST /api/turn), waiting for each reply as a
person does, without the thinking time; a finished check starts again. The bare handler
gets exactly the same requests and answers each with a fixed small JSON. Bare and real
runs alternate; medians of the runs. Ratios are backcheck / bare: how much of a turn's
time and CPU is backcheck's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from drive import SECRET_KEY
from redis_server import free_port
from support import pick

from bench.common import ROOT, cpu_seconds, median, percentile, script_main

FULL = {"browsers": 200, "turns_per_browser": 10, "repeats": 2}
QUICK = {"browsers": 10, "turns_per_browser": 3, "repeats": 1}
BARE_REPLY = json.dumps({"lang": "en", "messages": [{"type": "question", "id": "q", "token": "t",
                         "buttons": [{"kind": "answer", "id": "no", "label": "No"}]}]})


# -- the bare handler, run as `python -m bench.bench_web --serve-bare PORT` ----------------


def serve_bare(port: int) -> None:
    """An aiohttp server whose handlers read the request and answer a constant."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text=BARE_REPLY, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/state", handler)
    app.router.add_post("/api/turn", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- the browsers ------------------------------------------------------------------------


class Browser:
    """One person's page: its session header and the buttons on offer."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base
        self.session = "new"
        self.offer: dict[str, Any] = {}
        self.latencies: list[float] = []

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"X-Backcheck-Session": self.session}) as resp:
            data = await resp.json()
        self.latencies.append(1000 * (time.perf_counter() - started))
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status} {data}")
        self.session = data.get("session", self.session)
        offers = [m for m in data["messages"] if m.get("buttons")]
        self.offer = offers[-1] if offers else self.offer

    def next_body(self) -> dict[str, Any]:
        ids = [b["id"] for b in self.offer["buttons"]]
        if self.offer.get("type") != "question":
            return {"command": "restart", "token": self.offer.get("token"), "lang": "en"}
        wanted = pick(self.offer.get("id", ""), {})
        return {"answer": wanted if wanted in ids else ids[0], "token": self.offer["token"],
                "lang": "en"}

    async def check(self, turns: int) -> None:
        await self.call("GET", "/api/state")
        for _ in range(turns):
            await self.call("POST", "/api/turn", self.next_body())


async def load(base: str, pid: int, settings: dict[str, int]) -> dict[str, Any]:
    """All browsers at once against `base`; turns/s, latency and the server's CPU."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        browsers = [Browser(http, base) for _ in range(settings["browsers"])]
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(b.check(settings["turns_per_browser"]) for b in browsers))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    latencies = [ms for b in browsers for ms in b.latencies]
    return {"requests": len(latencies), "seconds": seconds,
            "turns_per_s": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "cpu_ms_per_turn": 1000 * cpu / len(latencies)}


# -- the servers -------------------------------------------------------------------------


async def spawn(args: list[str], env: dict[str, str], log: Path
                ) -> asyncio.subprocess.Process:
    with open(log, "ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=ROOT, stdout=out, stderr=out,
            stdin=asyncio.subprocess.DEVNULL)


async def ready(base: str, path: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    for _ in range(600):
        try:
            async with aiohttp.ClientSession() as http, http.get(base + path) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{path} did not answer: " + log.read_text(errors="replace")[-2000:])


async def run_async(settings: dict[str, int]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_"))}
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "backcheck": []}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "web.log"
        env.update(BACKCHECK_STORE=f"sqlite:///{Path(tmp) / 'web.sqlite3'}",
                   BACKCHECK_LOG_LEVEL="WARNING", BACKCHECK_ENV_FILE=os.devnull,
                   BACKCHECK_SECRET_KEY=SECRET_KEY,
                   BACKCHECK_WEB_SESSION_RATE="1000000", BACKCHECK_WEB_ADDRESS_RATE="1000000000")
        web_port, bare_port = free_port(), free_port()
        web = await spawn(["-m", "bot.cli", "web", "--host", "127.0.0.1", "--port",
                           str(web_port)], env, log)
        bare = await spawn(["-m", "bench.bench_web", "--serve-bare", str(bare_port)], env, log)
        try:
            await ready(f"http://127.0.0.1:{web_port}", "/healthz", web, log)
            await ready(f"http://127.0.0.1:{bare_port}", "/api/state", bare, log)
            warm_up = {"browsers": 10, "turns_per_browser": 3}
            for port, proc in ((bare_port, bare), (web_port, web)):
                await load(f"http://127.0.0.1:{port}", proc.pid, warm_up)
            for _ in range(settings["repeats"]):
                runs["bare"].append(await load(f"http://127.0.0.1:{bare_port}", bare.pid,
                                               settings))
                runs["backcheck"].append(await load(f"http://127.0.0.1:{web_port}", web.pid,
                                                    settings))
        finally:
            for proc in (web, bare):
                proc.terminate()
                await proc.wait()
    return summarize(runs, settings)


def summarize(runs: dict[str, list[dict[str, Any]]], settings: dict[str, int]
              ) -> dict[str, Any]:
    keys = ("turns_per_s", "p50_ms", "p99_ms", "cpu_ms_per_turn")
    med = {name: {k: median([r[k] for r in rs]) for k in (*keys, "requests")}
           for name, rs in runs.items()}
    web, bare = med["backcheck"], med["bare"]
    return {"settings": settings, "median": med,
            "ratio": {k: web[k] / bare[k] if bare[k] else float("nan") for k in keys}}


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(run_async(QUICK if quick else FULL))


def table(r: dict[str, Any]) -> str:
    s, m, q = r["settings"], r["median"], r["ratio"]
    lines = [f"Web: {s['browsers']} simultaneous browsers x {s['turns_per_browser'] + 1} API "
             f"calls, {s['repeats']} run(s) each, medians",
             f"{'':<26}{'turns/s':>10}{'p50':>10}{'p99':>10}{'CPU/turn':>12}"]
    for name, label in (("backcheck", "backcheck web"), ("bare", "bare aiohttp handler")):
        v = m[name]
        lines.append(f"{label:<26}{v['turns_per_s']:>10,.0f}{v['p50_ms']:>8.1f}ms"
                     f"{v['p99_ms']:>8.1f}ms{v['cpu_ms_per_turn']:>10.2f}ms")
    lines.append(f"{'ratio backcheck / bare':<26}{q['turns_per_s']:>9.2f}x{q['p50_ms']:>9.2f}x"
                 f"{q['p99_ms']:>9.2f}x{q['cpu_ms_per_turn']:>11.2f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--serve-bare"]:
        serve_bare(int(args[1]))
        return
    script_main(run, table, __doc__, args)


if __name__ == "__main__":
    main()
