"""A store in one SQLite file: the default, for a single host, with nothing else to run.

Every database call runs on one dedicated worker thread that owns the one connection,
so the event loop never blocks and calls are applied in the order they were made.
Writes are compare-and-set inside `BEGIN IMMEDIATE`, which takes SQLite's write lock
before reading the version, so the check and the write are atomic even when several
processes share the file. When the file cannot be opened or written the store raises
StoreUnavailable and drops its connection; the next call opens the file again, so the
store recovers by itself once the file is usable.

What is deleted leaves the disk: `secure_delete` zeroes freed content in the file, and
`forget` (and `compact`, which `keys rotate` calls) checkpoints the write-ahead log and
truncates it, so neither the -wal file nor free pages keep a forgotten person's record.

A damaged file is reported, not served: `PRAGMA quick_check` runs when the file is opened
and on every `ping` (/healthz), and SQLite's "malformed" errors at any other time raise
StoreCorrupt, logged once (naming the file) until the file is healthy again.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StoreCorrupt, StoreUnavailable, VersionConflict
from bot.stores.base import Record
from bot.stores.codec import decode, dropped, encode, log

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at REAL,
    person TEXT,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_person ON records (person) WHERE person IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
"""

# A row is live until its expiry time; expired rows are invisible, and swept later.
LIVE = "(expires_at IS NULL OR expires_at > ?)"
SELECT_LIVE = f"SELECT data, version FROM records WHERE ns = ? AND key = ? AND {LIVE}"
# Deletes an unreadable row only if nobody has replaced it since it was read.
DELETE_SEEN = "DELETE FROM records WHERE ns = ? AND key = ? AND version IS ? AND data IS ?"
# SQLite's primary result codes for a damaged file and for a file that is no database.
DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


@contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction that holds the write lock from its start: reads inside it are current
    and no other connection, in any process, can write until it ends."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _damaged(exc: BaseException) -> bool:
    """Whether an SQLite error says the file is damaged or is not a database at all."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in DAMAGED:
        return True
    return isinstance(exc, sqlite3.DatabaseError) and "malformed" in str(exc)


def _count(data: dict[str, Any] | None) -> int | None:
    """The value of a counter record, or None when it holds no readable count."""
    if data is None:
        return None
    try:
        return int(data.get("n", 0))
    except (TypeError, ValueError):
        return None


class SqliteStore:
    """Implements the Store protocol on a SQLite file (WAL mode), created on first use.

    `timeout` is how long a write waits for another process holding the write lock before
    the store reports itself unavailable. Expired rows are deleted every `sweep_every`
    writes, or when `sweep` is called.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        sweep_every: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = os.fspath(path)
        self._timeout = timeout
        self._sweep_every = max(1, sweep_every)
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        # Only ever touched on the worker thread:
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._writes = 0
        self._damaged = False  # reported in the log already

    # -- the Store protocol -------------------------------------------------------------

    async def get(self, ns: str, key: str) -> Record | None:
        return await self._run(lambda conn: self._get(conn, ns, key))

    async def put(
        self,
        ns: str,
        key: str,
        data: dict[str, Any],
        *,
        version: int,
        ttl: float | None = None,
        person: str | None = None,
    ) -> int:
        text = encode(data)
        return await self._run(lambda conn: self._put(conn, ns, key, text, version, ttl, person))

    async def delete(self, ns: str, key: str) -> None:
        sql = "DELETE FROM records WHERE ns = ? AND key = ?"
        await self._run(lambda conn: conn.execute(sql, (ns, key)).rowcount)

    async def forget(self, person: str) -> int:
        return await self._run(lambda conn: self._forget(conn, person))

    async def scan(self, ns: str) -> list[tuple[str, Record]]:
        return await self._run(lambda conn: self._scan(conn, ns))

    async def incr(self, ns: str, key: str, amount: int = 1) -> int:
        return await self._run(lambda conn: self._incr(conn, ns, key, amount))

    async def compact(self) -> bool:
        return await self._run(self._checkpoint)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the file can be opened and its write lock taken,
        StoreCorrupt when it is damaged."""

        def check(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn):
                conn.execute("SELECT 1 FROM records LIMIT 1").fetchall()
            self._check_file()

        await self._run(check)

    async def sweep(self) -> int:
        """Delete expired rows now and return how many; reads already ignore them, this
        only gives the space back (and removes expired personal data from the file)."""
        return await self._run(self._sweep)

    async def close(self) -> None:
        """Close the connection and stop the worker thread; a later call starts them again."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._drop)
        executor.shutdown(wait=False)

    # -- running on the worker thread ---------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the connection on the worker thread, without blocking the loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="backcheck-sqlite")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Translate every SQLite or file-system failure into StoreUnavailable (StoreCorrupt
        for a damaged file), and forget the connection so that the next call opens the
        file afresh."""
        try:
            return fn(self._connection())
        except StoreCorrupt:
            self._drop()
            raise
        except (sqlite3.Error, OSError) as exc:
            self._drop()
            if _damaged(exc):
                raise self._corrupt(str(exc)) from exc
            raise StoreUnavailable(
                f"sqlite store {self.path!r}: {type(exc).__name__}: {exc}"
            ) from exc

    def _corrupt(self, detail: str) -> StoreCorrupt:
        """The error for a damaged file, logged once (with what an operator can do) until
        the file opens healthy again."""
        if not self._damaged:
            self._damaged = True
            log.error("sqlite store: the file %s is corrupt (%s). People are told the check "
                      "cannot be reached. Stop the bots, restore the file from a backup (or "
                      "move it aside to start empty), then start them again.",
                      self.path, detail)
        return StoreCorrupt(f"sqlite store {self.path!r} is corrupt: {detail}")

    def _check_file(self) -> None:
        """`_quick_check` through a connection of its own, which reads the file as it is on
        disk now (the store's connection may answer from pages it cached before)."""
        if self.path == ":memory:":
            return
        fresh = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        try:
            self._quick_check(fresh)
        finally:
            fresh.close()

    def _quick_check(self, conn: sqlite3.Connection) -> None:
        """Raise StoreCorrupt unless SQLite's quick integrity check finds the file sound."""
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
        if problems != ["ok"]:
            raise self._corrupt("PRAGMA quick_check: " + "; ".join(problems))
        self._damaged = False

    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened when the file at `path` is not the one we hold
        (deleted or replaced), so writes never go to a file nobody will read again."""
        if self._conn is not None and self._identity == self._file_identity():
            return self._conn
        self._drop()
        self._conn = self._open()
        self._identity = self._file_identity()
        return self._conn

    def _file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the file at `path`; None when it does not exist (or is in memory).
        Raises OSError when the path cannot be looked at, e.g. its directory became a file."""
        if self.path == ":memory:":
            return (0, 0)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino)

    def _open(self) -> sqlite3.Connection:
        """Open the file (creating its directory and table) in WAL mode. A new file is made
        readable by its owner only (0600; SQLite gives its -wal and -shm files the same)."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        try:
            self._wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA secure_delete=ON")  # freed content is zeroed, not left
            self._quick_check(conn)
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL. Two processes opening a new file at once can find it locked, and
        this pragma does not wait by itself: retry until the store's timeout."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _drop(self) -> None:
        conn, self._conn, self._identity = self._conn, None, None
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()

    # -- the operations, each on the worker thread with an open connection -------------

    def _get(self, conn: sqlite3.Connection, ns: str, key: str) -> Record | None:
        row = conn.execute(SELECT_LIVE, (ns, key, self._clock())).fetchone()
        if row is None:
            return None
        data = decode(row[0])
        if data is None:
            conn.execute(DELETE_SEEN, (ns, key, row[1], row[0]))
            raise dropped("sqlite", ns, key)
        return Record(data, int(row[1]))

    def _put(
        self,
        conn: sqlite3.Connection,
        ns: str,
        key: str,
        text: str,
        version: int,
        ttl: float | None,
        person: str | None,
    ) -> int:
        now = self._clock()
        expires = None if ttl is None else now + ttl
        with _write_transaction(conn):
            if version == 0:
                conn.execute(f"DELETE FROM records WHERE ns = ? AND key = ? AND NOT {LIVE}",
                             (ns, key, now))
                written = conn.execute(
                    "INSERT OR IGNORE INTO records (ns, key, data, version, expires_at, person)"
                    " VALUES (?, ?, ?, 1, ?, ?)", (ns, key, text, expires, person)).rowcount
            else:
                written = conn.execute(
                    "UPDATE records SET data = ?, version = version + 1, expires_at = ?,"
                    f" person = ? WHERE ns = ? AND key = ? AND version = ? AND {LIVE}",
                    (text, expires, person, ns, key, version, now)).rowcount
            if written != 1:
                raise VersionConflict(f"{ns} record changed (expected version {version})")
        self._wrote(conn)
        return version + 1

    def _wrote(self, conn: sqlite3.Connection) -> None:
        """Count a write; every `sweep_every` writes, sweep expired rows. The write has
        been committed already, so a failing sweep is logged and left for next time."""
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            try:
                self._sweep(conn)
            except sqlite3.Error as exc:
                log.warning("sqlite store: sweep failed: %s", type(exc).__name__)

    def _sweep(self, conn: sqlite3.Connection) -> int:
        sql = "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?"
        return int(conn.execute(sql, (self._clock(),)).rowcount)

    def _forget(self, conn: sqlite3.Connection, person: str) -> int:
        with _write_transaction(conn):
            live = conn.execute(f"DELETE FROM records WHERE person = ? AND {LIVE}",
                                (person, self._clock())).rowcount
            gone = conn.execute("DELETE FROM records WHERE person = ?", (person,)).rowcount
        if live or gone:
            self._checkpoint(conn)
        return int(live)

    def _checkpoint(self, conn: sqlite3.Connection) -> bool:
        """Copy the write-ahead log into the file and truncate it to nothing, so the
        deleted records' old pages are gone from the -wal file too. Waits (up to the
        store's timeout) for other connections' reads; False when one still holds on."""
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("sqlite store: the write-ahead log of %s is in use and was not "
                        "truncated; deleted records leave it at the next checkpoint", self.path)
        return not busy

    def _scan(self, conn: sqlite3.Connection, ns: str) -> list[tuple[str, Record]]:
        sql = f"SELECT key, data, version FROM records WHERE ns = ? AND {LIVE} ORDER BY key"
        found: list[tuple[str, Record]] = []
        for key, raw, version in conn.execute(sql, (ns, self._clock())).fetchall():
            data = decode(raw)
            if data is None:
                conn.execute(DELETE_SEEN, (ns, key, version, raw))
                dropped("sqlite", ns, key)  # logged; the scan goes on without it
                continue
            found.append((key, Record(data, int(version))))
        return found

    def _incr(self, conn: sqlite3.Connection, ns: str, key: str, amount: int) -> int:
        """Add to a counter; an unreadable counter is dropped and counts from zero."""
        with _write_transaction(conn):
            row = conn.execute(SELECT_LIVE, (ns, key, self._clock())).fetchone()
            current = 0 if row is None else _count(decode(row[0]))
            if current is None:
                dropped("sqlite", ns, key)
            value = (current or 0) + amount
            conn.execute(
                "INSERT OR REPLACE INTO records (ns, key, data, version, expires_at, person)"
                " VALUES (?, ?, ?, ?, NULL, NULL)",
                (ns, key, encode({"n": value}), (0 if row is None else int(row[1])) + 1))
        self._wrote(conn)
        return value
