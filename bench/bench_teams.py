"""Teams: CPU per activity of `backcheck teams` next to a bare Agents SDK echo agent.

    python -m bench.bench_teams [--quick] [--json PATH]      (about 30 s; --quick 10 s)

Both run as their own process on the same SDK set-up (CloudAdapter, the SDK's token
check on every request, an MSAL connection): the echo agent (`--serve echo`) answers
each message with its text; backcheck (`backcheck teams`, SQLite store) runs checks,
people typing "start" and then "no" to each question, each reply an Adaptive Card. The
stand-ins for Microsoft's sign-in hosts and the Bot Connector (tests/teams_stub.py) and
the people run in this process. Each person posts one activity at a time, 20 people at
once; the bot's CPU time (user + system, /proc) is divided by the activities it got.
Both are measured in the same run, alternately, and the ratio is per repetition.
"""

from __future__ import annotations

import asyncio
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
from teams_stub import APP_ID, PASSWORD, TENANT, Connector, Microsoft, mint, personal

from bench.common import ROOT, cpu_seconds, median, script_main, spawn_listening

FULL = {"people": 40, "activities_per_person": 10, "repeats": 2}
QUICK = {"people": 4, "activities_per_person": 3, "repeats": 1}
AT_ONCE = 20
KINDS = ("echo", "backcheck")


# -- the echo agent, run as `python -m bench.bench_teams --serve echo PORT` ---------------


def serve_echo(port: int) -> None:
    """The bare SDK echo agent, with the same token check and connection as backcheck."""
    from aiohttp import web
    from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator
    from microsoft_agents.hosting.core import TurnContext

    from bot.adapters.teams.transport import auth_configuration, cloud_adapter
    from bot.config import Settings

    config = auth_configuration(Settings.from_env())
    adapter = cloud_adapter(config)

    class Echo:
        async def on_turn(self, context: TurnContext) -> None:
            if context.activity.type == "message":
                await context.send_activity(context.activity.text or "")

    @jwt_authorization_decorator  # type: ignore[untyped-decorator]
    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, Echo()) or web.Response(status=202)

    application = web.Application()
    application["agent_configuration"] = config
    application.router.add_post("/api/messages", messages)
    web.run_app(application, host="127.0.0.1", port=port, print=None)


# -- the harness --------------------------------------------------------------------------


async def start(kind: str, env: dict[str, str], tmp: Path) -> tuple[Any, str]:
    port = free_port()
    args = (["-m", "bench.bench_teams", "--serve", "echo", str(port)] if kind == "echo" else
            ["-m", "bot.cli", "teams", "--host", "127.0.0.1", "--port", str(port)])
    url = f"http://127.0.0.1:{port}/api/messages"
    return await spawn_listening(args, env, ROOT, tmp / f"{kind}.log", url), url


def activity(connector: Connector, user: str, text: str, n: int) -> dict[str, Any]:
    return {"type": "message", "id": f"in{n}", "channelId": "msteams", "text": text,
            "serviceUrl": connector.url, "locale": "en-US",
            "from": {"id": f"29:{user}", "aadObjectId": user},
            "recipient": {"id": f"28:{APP_ID}", "name": "backcheck"},
            "conversation": {"id": personal(user), "conversationType": "personal",
                             "tenantId": TENANT}}


async def person(http: aiohttp.ClientSession, url: str, token: str, connector: Connector,
                 user: str, count: int, gate: asyncio.Semaphore) -> int:
    """One person's activities, one at a time: "start", then "no"s; the non-202 answers."""
    bad = 0
    async with gate:
        for n in range(count):
            body = activity(connector, user, "start" if n == 0 else "no", n)
            async with http.post(url, json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as resp:
                await resp.read()
                bad += resp.status != 202
    return bad


async def measure(kind: str, env: dict[str, str], connector: Connector, tmp: Path,
                  settings: dict[str, int], rep: int) -> dict[str, float]:
    proc, url = await start(kind, env, tmp)
    token = mint(connector.url, lifetime=3600)
    people = [f"00000000-0000-4000-8000-{rep:04d}{i:08d}" for i in range(settings["people"])]
    count = settings["activities_per_person"]
    try:
        async with aiohttp.ClientSession() as http:
            await person(http, url, token, connector, "warm-up-" + kind, 2, asyncio.Semaphore(1))
            calls0 = len(connector.calls)
            cpu0, started = cpu_seconds(proc.pid), time.perf_counter()
            gate = asyncio.Semaphore(AT_ONCE)
            bad = await asyncio.gather(*(person(http, url, token, connector, u, count, gate)
                                         for u in people))
            cpu, seconds = cpu_seconds(proc.pid) - cpu0, time.perf_counter() - started
            replies = len(connector.calls) - calls0
    finally:
        proc.terminate()
        await proc.wait()
    activities = len(people) * count
    return {"activities": activities, "seconds": seconds, "activities_per_s": activities / seconds,
            "cpu_ms_per_activity": 1000 * cpu / activities, "not_accepted": float(sum(bad)),
            "replies_per_activity": replies / activities}


async def run_async(settings: dict[str, int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        microsoft, connector = Microsoft(tmp / "certs"), Connector()
        await microsoft.start()
        await connector.start()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_", "TEAMS_"))}
        env.update(microsoft.variables(), TEAMS_APP_ID=APP_ID, TEAMS_APP_PASSWORD=PASSWORD,
                   TEAMS_TENANT_ID=TENANT, TEAMS_SERVICE_URL=connector.url,
                   BACKCHECK_STORE=f"sqlite:///{tmp / 'teams.sqlite3'}",
                   BACKCHECK_LOG_LEVEL="WARNING", BACKCHECK_ENV_FILE=os.devnull,
                   BACKCHECK_SECRET_KEY=SECRET_KEY)
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
        try:
            for rep in range(settings["repeats"]):
                for kind in KINDS:
                    runs[kind].append(await measure(kind, env, connector, tmp, settings, rep))
        finally:
            await connector.stop()
            await microsoft.stop()
    keys = ("activities", "seconds", "activities_per_s", "cpu_ms_per_activity", "not_accepted",
            "replies_per_activity")
    med = {k: {key: median([r[key] for r in runs[k]]) for key in keys} for k in KINDS}
    ratio = median([b["cpu_ms_per_activity"] / e["cpu_ms_per_activity"]
                    for b, e in zip(runs["backcheck"], runs["echo"], strict=True)])
    return {"settings": settings, "median": med, "ratio": {"cpu_ms_per_activity": ratio}}


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(run_async(QUICK if quick else FULL))


def table(r: dict[str, Any]) -> str:
    s, m = r["settings"], r["median"]
    lines = [f"Teams: {s['people']} people × {s['activities_per_person']} activities, "
             f"{AT_ONCE} at once, {s['repeats']} repetition(s)",
             f"{'agent':<30}{'activities/s':>14}{'CPU ms/activity':>17}{'not 202':>9}"
             f"{'replies/activity':>18}"]
    names = {"echo": "Agents SDK echo agent", "backcheck": "backcheck, typed answers"}
    for kind in KINDS:
        k = m[kind]
        lines.append(f"{names[kind]:<30}{k['activities_per_s']:>14.0f}"
                     f"{k['cpu_ms_per_activity']:>17.2f}{k['not_accepted']:>9.0f}"
                     f"{k['replies_per_activity']:>18.1f}")
    lines.append(f"backcheck / echo, CPU per activity: {r['ratio']['cpu_ms_per_activity']:.2f}×")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--serve"]:
        serve_echo(int(argv[2]))
        return
    script_main(run, table, __doc__, argv)


if __name__ == "__main__":
    main()
