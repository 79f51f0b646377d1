"""The benchmarks run end to end and write well-formed results.

Nothing here looks at a timing: machines are noisy and a benchmark reports, it never
passes or fails. `python -m bench --quick` runs every benchmark at its smallest setting
(real subprocesses, stand-in servers and a real redis-server, as `make bench` does).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EXPECTED: dict[str, Any] = {
    "environment": ["date", "nproc", "cpu", "python", "os", "load_average_at_start",
                    "python-telegram-bot", "slack-bolt", "redis-server", "sqlite"],
    "engine": ["answer_steps_per_s", "app_turns_per_s_memory_store",
               "mean_answers_per_conversation", "locales_load_ms", "flow_load_validate_ms",
               "lint_prove_s", "lint_command_s", "lint_paths", "lint_steps"],
    "stores": {"stores": {s: ["put_create_per_s", "get_per_s", "put_update_per_s",
                              "turns_per_s_concurrent"] for s in ("memory", "sqlite", "redis")},
               "session_json_bytes": None},
    "telegram": {
        "median": {w: ["updates", "seconds", "updates_per_s", "cpu_ms_per_update",
                       "no_reply"] for w in ("echo", "typed", "buttons")},
        "ratio": {w: ["updates_per_s", "cpu_ms_per_update"] for w in ("typed", "buttons")},
    },
    "slack": {k: ["ack_p50_ms", "ack_p99_ms", "ack_max_ms", "over_limit", "shown_p50_ms",
                  "shown_p99_ms", "requests"] for k in ("commands", "clicks")},
    "web": {"median": {w: ["turns_per_s", "p50_ms", "p99_ms", "requests"]
                       for w in ("backcheck", "bare")},
            "ratio": ["turns_per_s", "p50_ms", "p99_ms"]},
    "teams": {"median": {w: ["activities", "activities_per_s", "cpu_ms_per_activity",
                             "not_accepted", "replies_per_activity"]
                         for w in ("echo", "backcheck")},
              "ratio": ["cpu_ms_per_activity"]},
    "footprint": {s: ["startup_s", "idle_rss_mb", "rss_growth_mb_per_10k_sessions",
                      "bytes_per_session", "sessions"] for s in ("sqlite", "redis")},
}


def missing(results: Any, expected: Any, path: str = "") -> list[str]:
    """Every expected key that is absent, or whose value is not a finite number."""
    if expected is None:
        ok = isinstance(results, int | float) and math.isfinite(results)
        return [] if ok or path.startswith("environment") else [f"{path} = {results!r}"]
    out: list[str] = []
    keys = expected if isinstance(expected, list) else list(expected)
    for key in keys:
        where = f"{path}.{key}" if path else key
        if not isinstance(results, dict) or key not in results:
            out.append(f"{where} missing")
        else:
            sub = None if isinstance(expected, list) else expected[key]
            out += missing(results[key], sub, where)
    return out


def test_quick_bench_runs_everything_and_writes_every_key(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] is True
    assert missing(results, EXPECTED) == []
    assert results["footprint"]["sqlite"]["sessions_opened"] == results["footprint"][
        "sqlite"]["sessions"]
    report = (tmp_path / "results.md").read_text()
    assert "| measure | result |" in report and results["environment"]["cpu"] in report
    assert "| measure | result |" in proc.stdout  # the table is printed too


def test_committed_results_come_from_a_full_run() -> None:
    """bench/results.json (quoted in docs/benchmarks.md) is a real run, with every key."""
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    assert results["quick"] is False
    assert missing(results, EXPECTED) == []
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert results["environment"]["date"][:10] in page
