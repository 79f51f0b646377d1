"""The engine on one core: answer steps per second, flow load time, `backcheck lint`.

    python -m bench.bench_engine [--quick] [--json PATH]      (about 10 s; --quick 2 s)

- steps/s: the pure step (`bot.engine.machine.step`, replies rendered in full) over
  random complete conversations, drawn uniformly from every path from the start to the
  outcome (the paths lint proves). One process, one thread: one core.
- turns/s: the same conversations through `App.handle` over the memory store (load,
  step, compare-and-set save), the whole of a turn except the platform.
- flow load: reading and validating flows/back_pain.yaml against the locales.
- lint: proving the flow's invariants over every path, in process and as the
  `backcheck lint` command (which includes starting Python).
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import ROOT, median, script_main, timed
from bot.engine import triage
from bot.engine.flow import Flow
from bot.engine.lint import prove
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, load_flow
from bot.engine.machine import State, step
from bot.i18n import Locales, load_locales
from bot.stores import MemoryStore
from bot.types import Incoming, SessionKey

FULL = {"conversations": 2000, "budget_s": 0.5, "repeats": 5, "lint_repeats": 3}
QUICK = {"conversations": 100, "budget_s": 0.1, "repeats": 1, "lint_repeats": 1}


def all_paths(flow: Flow) -> list[list[str]]:
    """Every complete conversation through the flow, as the option chosen at each step
    (the paths `backcheck lint` proves)."""
    paths: list[list[str]] = []

    def walk(node_id: str, answers: list[tuple[str, str]]) -> None:
        node = flow.nodes[node_id]
        if node.kind == "outcome":
            paths.append([option for _, option in answers])
            return
        for option in node.options:
            new = [*answers, (node.id, option.id)]
            walk(triage.next_node(flow, node, option.id, triage.facts(flow, new)), new)

    walk(flow.start, [])
    return paths


def conversations(flow: Flow, count: int, seed: int = 8) -> list[list[str]]:
    """`count` random complete conversations: paths drawn uniformly from all of them, so
    long checks weigh as much as a red flag answered at once."""
    rng = random.Random(seed)
    paths = all_paths(flow)
    return [rng.choice(paths) for _ in range(count)]


def steps_per_second(flow: Flow, locales: Locales, convs: list[list[str]],
                     budget: float) -> float:
    """Answer steps per second through `step`, cycling over the conversations."""
    key = SessionKey("bench", "w", "c", "u")
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget:
        for chosen in convs:
            state = State.new(flow, "en", "bench", "2026-01-01")
            for option in chosen:
                state, _ = step(flow, state, Incoming(key, "answer", option, state.token),
                                locales, "SE")
                assert state is not None
            steps += len(chosen)
            if time.perf_counter() - started >= budget:
                break
    return steps / (time.perf_counter() - started)


async def turns_per_second(flow: Flow, locales: Locales, convs: list[list[str]],
                           budget: float) -> float:
    """Whole turns per second through `App.handle` over the memory store."""
    from bot.app import App

    app = App(flow, locales, MemoryStore())
    turns, started, n = 0, time.perf_counter(), 0
    while time.perf_counter() - started < budget:
        for chosen in convs:
            n += 1
            key = SessionKey("bench", "w", str(n), str(n))
            replies = await app.handle(Incoming(key, "start"))
            for option in chosen:
                token = next(r.token for r in reversed(replies) if r.buttons)
                replies = await app.handle(Incoming(key, "answer", option, token))
            turns += len(chosen) + 1
            if time.perf_counter() - started >= budget:
                break
    return turns / (time.perf_counter() - started)


def lint_command_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot.cli", "lint"], cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def run(quick: bool = False) -> dict[str, Any]:
    settings = QUICK if quick else FULL
    locales_s = timed(lambda: load_locales(LOCALES_DIR), settings["repeats"])
    locales = load_locales(LOCALES_DIR)
    load_s = timed(lambda: load_flow(DEFAULT_FLOW, locales), max(3, settings["repeats"] * 2))
    flow = load_flow(DEFAULT_FLOW, locales)
    convs = conversations(flow, settings["conversations"])
    steps = [steps_per_second(flow, locales, convs, settings["budget_s"])
             for _ in range(settings["repeats"])]
    turns = [asyncio.run(turns_per_second(flow, locales, convs, settings["budget_s"]))
             for _ in range(settings["repeats"])]
    report = prove(flow)
    prove_s = timed(lambda: prove(flow), settings["lint_repeats"])
    command_s = [lint_command_seconds() for _ in range(settings["lint_repeats"])]
    return {
        "settings": settings,
        "answer_steps_per_s": median(steps),
        "answer_steps_per_s_runs": steps,
        "app_turns_per_s_memory_store": median(turns),
        "mean_answers_per_conversation": sum(map(len, convs)) / len(convs),
        "locales_load_ms": 1000 * median(locales_s),
        "flow_load_validate_ms": 1000 * median(load_s),
        "lint_prove_s": median(prove_s),
        "lint_command_s": median(command_s),
        "lint_paths": report.paths,
        "lint_steps": report.checks,
        "lint_violations": len(report.violations),
    }


def table(r: dict[str, Any]) -> str:
    return "\n".join([
        "Engine (one core)",
        f"  answer steps/s (pure step, random complete conversations): "
        f"{r['answer_steps_per_s']:,.0f}  (mean {r['mean_answers_per_conversation']:.1f} "
        f"answers per conversation)",
        f"  whole turns/s through App.handle, memory store:           "
        f"{r['app_turns_per_s_memory_store']:,.0f}",
        f"  flow load + validation: {r['flow_load_validate_ms']:.1f} ms "
        f"(locales {r['locales_load_ms']:.1f} ms)",
        f"  lint: {r['lint_paths']} paths ({r['lint_steps']} steps) proved in "
        f"{r['lint_prove_s']:.2f} s; `backcheck lint` command {r['lint_command_s']:.2f} s",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    script_main(run, table, __doc__, argv)


if __name__ == "__main__":
    main()
