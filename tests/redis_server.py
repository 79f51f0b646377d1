"""A real redis-server on a free 127.0.0.1 port, for tests and `bench/bench_stores.py`.

It keeps an append-only file in its own temporary directory, so `stop()` then `start()`
(same port) is a Redis restart that keeps the data, like a production restart. With
`password` it demands one (--requirepass); with `tls` (a tests/tls.py Certs) it speaks
only TLS on its port; `options` are more redis-server arguments.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tls import Certs


class RedisServerMissing(RuntimeError):
    """redis-server is not installed."""


def find_redis_server() -> str:
    """The redis-server executable; raises RedisServerMissing with what to do about it."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )
    if found is None:
        raise RedisServerMissing(
            "redis-server is not installed, and the Redis store tests need a real one: "
            "install it (apt-get install redis-server, or brew install redis) and rerun"
        )
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers_ping(port: int, password: str | None = None, tls: Certs | None = None) -> bool:
    """True when a Redis on `port` answers PING with PONG (not LOADING or nothing)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw:
            s = raw
            if tls is not None:
                s = ssl.create_default_context(cafile=str(tls.ca)).wrap_socket(
                    raw, server_hostname="localhost")
            with s:  # the TLS socket owns the connection once wrapped: close it too
                if password is not None:
                    s.sendall(f"AUTH {password}\r\n".encode())
                    if not s.recv(64).startswith(b"+OK"):
                        return False
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process that can be stopped and started again on the same port."""

    def __init__(self, *, password: str | None = None, tls: Certs | None = None,
                 options: Sequence[str] = ()) -> None:
        self.password, self.tls, self.options = password, tls, list(options)
        self.executable = find_redis_server()
        self.dir = Path(tempfile.mkdtemp(prefix="backcheck-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._has_run = False

    @property
    def url(self) -> str:
        """How a client reaches it: the password in the URL, rediss:// and the CA for TLS."""
        auth = f":{self.password}@" if self.password is not None else ""
        if self.tls is not None:
            return f"rediss://{auth}localhost:{self.port}/0?ssl_ca_certs={self.tls.ca}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _options(self) -> list[str]:
        port = ["--port", str(self.port)]
        if self.tls is not None:
            port = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file",
                    str(self.tls.cert), "--tls-key-file", str(self.tls.key),
                    "--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"]
        if self.password is not None:
            port += ["--requirepass", self.password]
        return port + self.options

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (a new port if the first one was taken meanwhile, unless it has
        run before) and return once it answers PING."""
        for _ in range(3):
            self.proc = subprocess.Popen(
                [self.executable, *self._options(), "--bind", "127.0.0.1",
                 "--dir", str(self.dir), "--save", "", "--appendonly", "yes",
                 "--appendfsync", "everysec", "--logfile", "redis.log"],
                cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _answers_ping(self.port, self.password, self.tls):
                    self._has_run = True
                    return
                time.sleep(0.02)
            self.stop()
            if not self._has_run:
                self.port = free_port()  # someone took the port between probe and start
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{self.log()}")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing answers, as with
        a hung server or a network partition."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Shut the server down (SIGTERM: it flushes its append-only file) and wait."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGCONT)  # in case it was paused
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log(self) -> str:
        """The server's own log, for error messages."""
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
