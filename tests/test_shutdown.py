"""Graceful shutdown: on SIGTERM or SIGINT stop taking updates, finish the ones in flight,
close the store, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from redis_server import RedisServer
from support import make_app

from bot.lifecycle import run_until_signal, shutdown
from bot.ops import healthz
from bot.stores import MemoryStore
from bot.stores.base import Record
from bot.types import Incoming, SessionKey

KEY = SessionKey("console", "local", "terminal", "tester")


class GatedStore(MemoryStore):
    """A memory store whose reads wait until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.entered = asyncio.Event(), asyncio.Event()
        self.closed = False

    async def get(self, ns: str, key: str) -> Record | None:
        self.entered.set()
        await self.gate.wait()
        return await super().get(ns, key)

    async def close(self) -> None:
        self.closed = True


async def test_shutdown_waits_for_the_update_in_flight_then_closes_the_store() -> None:
    store = GatedStore()
    app = make_app(store)
    turn = asyncio.create_task(app.handle(Incoming(KEY, "start")))
    await store.entered.wait()
    assert app.in_flight.count == 1
    stopping = asyncio.create_task(shutdown(app, timeout=10))
    await asyncio.sleep(0.1)
    assert not stopping.done() and not store.closed
    assert await healthz(app) == (503, {"status": "stopping"})
    store.gate.set()
    replies = await turn
    assert replies[-1].kind == "question"  # the person got their answer
    assert await stopping is True and store.closed


async def test_shutdown_gives_up_after_the_timeout_and_still_closes() -> None:
    store = GatedStore()
    app = make_app(store)
    turn = asyncio.create_task(app.handle(Incoming(KEY, "start")))
    await store.entered.wait()
    started = time.monotonic()
    assert await shutdown(app, timeout=0.2) is False
    assert 0.2 <= time.monotonic() - started < 2 and store.closed
    turn.cancel()


async def test_an_adapter_can_track_sending_the_replies_too() -> None:
    app = make_app()
    tracker = app.in_flight
    async with tracker.track():
        stopping = asyncio.create_task(tracker.drain(5))
        await app.handle(Incoming(KEY, "start"))
        await asyncio.sleep(0.05)
        assert not stopping.done()  # handle is over, but the reply is not sent yet
    assert await stopping is True


async def test_run_until_signal_stops_on_sigterm() -> None:
    calls: list[str] = []

    async def start() -> None:
        calls.append("start")
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)

    async def stop() -> None:
        calls.append("stop")

    await asyncio.wait_for(run_until_signal(start, stop), 5)
    assert calls == ["start", "stop"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # a second one ends at once


async def test_run_until_signal_stops_even_when_start_fails() -> None:
    calls: list[str] = []

    async def start() -> None:
        raise RuntimeError("cannot connect")

    async def stop() -> None:
        calls.append("stop")

    with pytest.raises(RuntimeError):
        await run_until_signal(start, stop)
    assert calls == ["stop"]


# -- backcheck chat as a process -----------------------------------------------------------


def chat(store: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BACKCHECK_STORE": store}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "chat", *args], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def send(proc: subprocess.Popen[str], data: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(data) + "\n")
    proc.stdin.flush()


def read(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    message: dict[str, Any] = json.loads(proc.stdout.readline())
    return message


def test_sigterm_mid_update_finishes_it_and_exits_0(redis_server: RedisServer) -> None:
    proc = chat(redis_server.url, "--json")
    try:
        assert read(proc)["id"] == "cold_pale_foot"
        redis_server.pause()  # the next turn hangs on Redis: it is in flight
        send(proc, {"answer": "no"})
        time.sleep(0.4)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None  # still finishing the turn
        redis_server.resume()
        out, err = proc.communicate(timeout=20)
    finally:
        redis_server.resume()
        proc.kill()
    assert proc.returncode == 0, err
    # The next question comes only after the answer was saved: the turn was finished.
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["severe_weakness"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_waiting_for_input_exits_0_at_once(sig: signal.Signals) -> None:
    proc = chat("memory://", "--json")
    try:
        assert read(proc)["type"] == "question"
        started = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 5
    assert out == "" and "Traceback" not in err


def test_interactive_chat_ends_on_ctrl_c_with_exit_0(tmp_path: Any) -> None:
    proc = chat(f"sqlite:///{tmp_path}/s.sqlite3")
    try:
        assert proc.stdout is not None
        while "1. Yes" not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
