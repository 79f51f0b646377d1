"""Slack: how fast 200 simultaneous `/backcheck` commands and button clicks are
acknowledged, against Slack's 3-second limit.

    python -m bench.bench_slack [--quick] [--json PATH]      (about 20 s; --quick 5 s)

`backcheck slack --port P` (HTTP mode, SQLite store) runs as its own process; the
stand-in Web API (tests/slack_stub.py) and 200 people run in this one. Each round,
200 people send a signed `/backcheck` at the same moment; once every question has
arrived in their DMs, all 200 click an answer at the same moment. The latency is from
sending the request to Slack's HTTP 200 (the acknowledgement); "question shown" is
from sending it to the first question (after a command) or the next (after a click)
appearing in the DM. Several rounds, medians of the per-round percentiles.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from drive import SECRET_KEY
from redis_server import free_port
from slack_stub import TOKEN, Signer, SlackStub, command_form, fixture, interaction_form

from bench.common import ROOT, median, percentile, script_main, spawn_listening

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"
LIMIT_MS = 3000.0
FULL = {"people": 200, "rounds": 3}
QUICK = {"people": 10, "rounds": 1}


class Workspace:
    """The people, their signed requests, and what their DMs show."""

    def __init__(self, stub: SlackStub, url: str, http: aiohttp.ClientSession) -> None:
        self.stub, self.url, self.http = stub, url, http
        self.signer = Signer(SECRET)

    async def post(self, body: str) -> tuple[int, float]:
        headers = self.signer.headers(body, content_type=FORM)
        started = time.perf_counter()
        async with self.http.post(self.url, data=body.encode(), headers=headers) as resp:
            await resp.read()
        return resp.status, 1000 * (time.perf_counter() - started)

    def questions(self) -> dict[str, list[Any]]:
        """Per DM channel, the messages the bot posted (answered ones included), oldest
        first."""
        out: dict[str, list[Any]] = defaultdict(list)
        for m in self.stub.shown:
            if m.user is None:
                out[m.channel].append(m)
        return out

    async def until(self, users: list[str], count: int, started: float,
                    timeout: float = 120.0) -> list[float]:
        """Wait until each user's DM shows `count` questions; when each did (ms)."""
        seen: dict[str, float] = {}
        while len(seen) < len(users):
            shown = self.questions()
            now = 1000 * (time.perf_counter() - started)
            for u in users:
                if u not in seen and len(shown.get("D" + u[1:], [])) >= count:
                    seen[u] = now
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"only {len(seen)} of {len(users)} questions arrived")
            await asyncio.sleep(0.01)
        return list(seen.values())

    def command(self, user: str) -> str:
        return command_form(text="", user_id=user, channel_id="C0GENERAL1",
                            response_url=self.stub.response_url(user))

    def click(self, user: str) -> str:
        """Pressing "No" on the person's newest question."""
        message = self.questions()["D" + user[1:]][-1]
        button = next(b for b in message.buttons() if b["value"].endswith("|no"))
        payload = fixture("block_actions")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["response_url"] = self.stub.response_url(user)
        payload["channel"]["id"] = payload["container"]["channel_id"] = message.channel
        payload["container"]["message_ts"] = payload["message"]["ts"] = message.ts
        payload["message"]["blocks"] = message.blocks
        payload["actions"][0].update(action_id=button["action_id"], value=button["value"],
                                     text=button["text"])
        return interaction_form(payload)


async def burst(ws: Workspace, users: list[str], bodies: list[str], shown_count: int
                ) -> dict[str, Any]:
    started = time.perf_counter()
    results = await asyncio.gather(*(ws.post(b) for b in bodies))
    shown = await ws.until(users, shown_count, started)
    acks = [ms for _, ms in results]
    return {"statuses": sorted({s for s, _ in results}), "ack_ms": acks, "shown_ms": shown}


async def start_bot(stub: SlackStub, tmp: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_"))}
    env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=stub.api_url,
               BACKCHECK_STORE=f"sqlite:///{tmp / 'slack.sqlite3'}",
               BACKCHECK_LOG_LEVEL="WARNING", BACKCHECK_ENV_FILE=os.devnull,
               BACKCHECK_SECRET_KEY=SECRET_KEY)
    url = f"http://127.0.0.1:{port}/slack/events"
    args = ["-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port", str(port)]
    return await spawn_listening(args, env, ROOT, tmp / "slack.log", url), url


async def run_async(settings: dict[str, int]) -> dict[str, Any]:
    stub = SlackStub()
    await stub.start()
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = await start_bot(stub, Path(tmp))
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                ws = Workspace(stub, url, http)
                for r in range(settings["rounds"]):
                    users = [f"U0R{r}P{i:05d}" for i in range(settings["people"])]
                    commands = await burst(ws, users, [ws.command(u) for u in users], 1)
                    clicks = await burst(ws, users, [ws.click(u) for u in users], 2)
                    rounds.append({"commands": commands, "clicks": clicks})
        finally:
            proc.terminate()
            await proc.wait()
            await stub.stop()
    return summarize(rounds, settings)


def summarize(rounds: list[dict[str, Any]], settings: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"settings": settings, "limit_ms": LIMIT_MS}
    for kind in ("commands", "clicks"):
        per = [r[kind] for r in rounds]
        acks = [a for p in per for a in p["ack_ms"]]
        out[kind] = {
            "ack_p50_ms": median([percentile(p["ack_ms"], 50) for p in per]),
            "ack_p99_ms": median([percentile(p["ack_ms"], 99) for p in per]),
            "ack_max_ms": max(acks),
            "over_limit": sum(a > LIMIT_MS for a in acks),
            "shown_p50_ms": median([percentile(p["shown_ms"], 50) for p in per]),
            "shown_p99_ms": median([percentile(p["shown_ms"], 99) for p in per]),
            "statuses": sorted({s for p in per for s in p["statuses"]}),
            "requests": len(acks),
        }
    return out


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(run_async(QUICK if quick else FULL))


def table(r: dict[str, Any]) -> str:
    s = r["settings"]
    lines = [f"Slack: {s['people']} simultaneous requests, {s['rounds']} round(s), "
             f"limit {r['limit_ms']:,.0f} ms",
             f"{'':<22}{'ack p50':>10}{'ack p99':>10}{'ack max':>10}{'over 3 s':>10}"
             f"{'question p50':>14}{'p99':>8}"]
    for kind, name in (("commands", "/backcheck commands"), ("clicks", "button clicks")):
        k = r[kind]
        lines.append(f"{name:<22}{k['ack_p50_ms']:>8.0f}ms{k['ack_p99_ms']:>8.0f}ms"
                     f"{k['ack_max_ms']:>8.0f}ms{k['over_limit']:>10}"
                     f"{k['shown_p50_ms']:>12.0f}ms{k['shown_p99_ms']:>6.0f}ms")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    script_main(run, table, __doc__, argv)


if __name__ == "__main__":
    main()
