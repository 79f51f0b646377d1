"""`make bench`: every benchmark, one summary table, bench/results.json and results.md.

    python -m bench                  all of them, about 4-5 minutes on 2 cores
    python -m bench --quick          the smallest settings: a smoke test, not a measurement
    python -m bench --only engine,slack
    python -m bench --out DIR        write results.json and results.md into DIR

A full run writes bench/results.json and bench/results.md; a --quick run writes only
with --out. Nothing here passes or fails: machines are noisy, so every figure is a
median of several runs or a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import (
    bench_engine,
    bench_footprint,
    bench_slack,
    bench_stores,
    bench_teams,
    bench_telegram,
    bench_web,
)
from bench.common import environment, machine_line

BENCHES = {"engine": bench_engine, "stores": bench_stores, "telegram": bench_telegram,
           "slack": bench_slack, "web": bench_web, "teams": bench_teams,
           "footprint": bench_footprint}
HERE = Path(__file__).resolve().parent


def _n(value: float, digits: int = 0) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def summary(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline figures, one (what, result) row each, for the README."""
    rows: list[tuple[str, str]] = []
    if e := r.get("engine"):
        rows += [
            ("Engine: answer steps per second, one core",
             f"{_n(e['answer_steps_per_s'])} (whole turns through the App, memory store: "
             f"{_n(e['app_turns_per_s_memory_store'])})"),
            ("Flow load + validation", f"{_n(e['flow_load_validate_ms'], 1)} ms"),
            ("`backcheck lint`", f"{e['lint_paths']} paths proved in {_n(e['lint_prove_s'], 2)} s "
             f"({_n(e['lint_command_s'], 1)} s as a command, Python start-up included)"),
        ]
    if t := r.get("telegram"):
        m, ratio, s = t["median"], t["ratio"], t["settings"]
        rows += [
            (f"Telegram, {s['users']} people × {s['updates_per_user']} updates: updates/s",
             f"backcheck {_n(m['typed']['updates_per_s'])} typed, "
             f"{_n(m['buttons']['updates_per_s'])} buttons; PTB echo bot "
             f"{_n(m['echo']['updates_per_s'])}"),
            ("Telegram: CPU ms per update",
             f"backcheck {_n(m['typed']['cpu_ms_per_update'], 1)} typed, "
             f"{_n(m['buttons']['cpu_ms_per_update'], 1)} buttons; echo "
             f"{_n(m['echo']['cpu_ms_per_update'], 1)} → "
             f"**{_n(ratio['typed']['cpu_ms_per_update'], 2)}×** the echo bot for the same "
             f"traffic ({_n(ratio['buttons']['cpu_ms_per_update'], 1)}× for a press: 3 API "
             f"calls instead of 1)"),
        ]
    if sl := r.get("slack"):
        c, k, n = sl["commands"], sl["clicks"], sl["settings"]["people"]
        rows.append((f"Slack, {n} simultaneous: acknowledgement p50 / p99",
                     f"commands {_n(c['ack_p50_ms'])} / {_n(c['ack_p99_ms'])} ms, clicks "
                     f"{_n(k['ack_p50_ms'])} / {_n(k['ack_p99_ms'])} ms (limit 3,000 ms; "
                     f"{c['over_limit'] + k['over_limit']} over)"))
    if tm := r.get("teams"):
        m, s = tm["median"], tm["settings"]
        rows.append((f"Teams, {s['people']} people × {s['activities_per_person']} activities: "
                     "CPU ms per activity",
                     f"backcheck {_n(m['backcheck']['cpu_ms_per_activity'], 1)}; Agents SDK "
                     f"echo agent {_n(m['echo']['cpu_ms_per_activity'], 1)} → "
                     f"**{_n(tm['ratio']['cpu_ms_per_activity'], 2)}×** the echo agent"))
    if w := r.get("web"):
        m, q, n = w["median"], w["ratio"], w["settings"]["browsers"]
        rows.append((f"Web chat, {n} simultaneous browsers: API turns/s, p50 / p99",
                     f"backcheck {_n(m['backcheck']['turns_per_s'])} turns/s, "
                     f"{_n(m['backcheck']['p50_ms'])} / {_n(m['backcheck']['p99_ms'])} ms; "
                     f"bare aiohttp handler {_n(m['bare']['turns_per_s'])}/s, "
                     f"{_n(m['bare']['p50_ms'])} / {_n(m['bare']['p99_ms'])} ms → "
                     f"**{_n(q['turns_per_s'], 2)}×** the bare throughput"))
    if f := r.get("footprint"):
        q, d = f["sqlite"], f["redis"]
        rows += [
            ("Start-up to ready (SQLite / Redis)",
             f"{_n(q['startup_s'], 2)} s / {_n(d['startup_s'], 2)} s"),
            ("Idle RSS (SQLite / Redis)",
             f"{_n(q['idle_rss_mb'])} MB / {_n(d['idle_rss_mb'])} MB"),
            ("Stored bytes per session (SQLite file / Redis used_memory_dataset)",
             f"{_n(q['bytes_per_session'])} / {_n(d['bytes_per_session'])}"),
            ("RSS growth per 10,000 active sessions (SQLite / Redis)",
             f"{_n(q['rss_growth_mb_per_10k_sessions'], 1)} MB / "
             f"{_n(d['rss_growth_mb_per_10k_sessions'], 1)} MB"),
        ]
    if st := r.get("stores"):
        turns = {k: v["turns_per_s_concurrent"] for k, v in st["stores"].items()}
        rows.append(("Store turns/s (read + compare-and-set write, 16 at once)",
                     " / ".join(f"{k} {_n(v)}" for k, v in turns.items())))
    return rows


def markdown_table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| measure | result |", "|---|---|",
                      *(f"| {what} | {result} |" for what, result in rows)])


def report(results: dict[str, Any]) -> str:
    """bench/results.md: the machine, the summary, and every benchmark's own table."""
    parts = [
        "# Benchmark results",
        "",
        f"Measured {machine_line(results['environment'])}; load average at start "
        f"{results['environment']['load_average_at_start']}. Produced by `make bench` "
        "(`python -m bench`); the raw numbers are in `results.json` beside this file. "
        "Medians of several runs; ratios measured in the same run. See each "
        "`bench/bench_*.py` docstring for what exactly is measured.",
        "",
        markdown_table(summary(results)),
        "",
    ]
    for name, module in BENCHES.items():
        if name in results:
            parts += [f"## {name}", "", "```text", module.table(results[name]), "```", ""]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smallest settings: checks that everything runs, measures nothing")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHES)}")
    parser.add_argument("--out", type=Path, help="directory for results.json and results.md")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHES)
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {"environment": environment(), "quick": args.quick,
                               "seconds": {}}
    print(f"backcheck benchmarks — {machine_line(results['environment'])}\n", flush=True)
    for name in names:
        started = time.perf_counter()
        results[name] = BENCHES[name].run(args.quick)
        results["seconds"][name] = round(time.perf_counter() - started, 1)
        print(BENCHES[name].table(results[name]))
        print(f"({results['seconds'][name]} s)\n", flush=True)
    print(markdown_table(summary(results)))
    out = args.out or (None if args.quick else HERE)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (out / "results.md").write_text(report(results))
        print(f"\nwritten to {out / 'results.json'} and {out / 'results.md'}")


if __name__ == "__main__":
    main()
