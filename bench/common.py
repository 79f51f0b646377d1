"""What every benchmark shares: the machine it ran on, medians, and /proc readings."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def redis_version() -> str:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except OSError:
        return "not installed"
    return next((w.removeprefix("v=") for w in out.split() if w.startswith("v=")), out.strip())


def environment() -> dict[str, Any]:
    """Date and machine: enough to know what a number was measured on."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "python": sys.version.split()[0],
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python-telegram-bot": metadata.version("python-telegram-bot"),
        "slack-bolt": metadata.version("slack-bolt"),
        "redis-server": redis_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def machine_line(env: dict[str, Any]) -> str:
    return (f"{env['date']} · {env['nproc']} cores ({env['cpu']}) · Python {env['python']} · "
            f"{env['os']}")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds each of `repeats` calls of `fn` took."""
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of a process now (Linux /proc)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def parse_args(argv: Sequence[str] | None, doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smallest settings, one run: a smoke test, not a measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    return parser.parse_args(argv)


def script_main(run: Callable[[bool], dict[str, Any]], table: Callable[[dict[str, Any]], str],
                doc: str | None, argv: Sequence[str] | None) -> None:
    """What each benchmark script's `main` does: parse --quick/--json, run, print, write."""
    args = parse_args(argv, doc)
    results = run(args.quick)
    finish(results, table(results), args.json)


def finish(results: dict[str, Any], table: str, json_path: str | None) -> None:
    """Print a benchmark's table; write its JSON when asked."""
    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwritten to {json_path}")


async def spawn_listening(args: Sequence[str], env: dict[str, str], cwd: Path, log_path: Path,
                          url: str) -> Any:
    """Start `python args...` with its output in `log_path`, and wait until `url` answers a
    POST (any status); the process. RuntimeError with the log's tail if it never does."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child writes to it until it ends
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, cwd=cwd,
                                                stdout=log, stderr=log,
                                                stdin=asyncio.subprocess.DEVNULL)
    log.close()
    for _ in range(600):
        try:
            async with aiohttp.ClientSession() as http, http.post(url, data=b"") as resp:
                if resp.status:
                    return proc
        except aiohttp.ClientConnectionError:
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{' '.join(args)} did not start: "
                       + log_path.read_text(errors="replace")[-2000:])
