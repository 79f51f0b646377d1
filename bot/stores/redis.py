"""A store in Redis, shared by several replicas of the bot behind a load balancer.

Key layout (prefix "bc" by default):

    bc:<ns>:<key>          a hash: v = version, d = the data as JSON, p = the person (if any)
    bc-person:<person>     a set of the full keys of that person's records, for `forget`

Every write is one Lua script, so compare-and-set, expiry and the person index change
together in one round trip and nothing can interleave. Expiry is Redis's own (PEXPIRE).
The scripts touch keys they do not declare (the person index), so this needs a single
Redis server or a primary with replicas, not Redis Cluster.

Connection failures and timeouts (2 s) raise StoreUnavailable; the client reconnects on
the next call, so the store recovers by itself when Redis is back.

What is deleted leaves the disk: Redis's append-only file keeps every write it was ever
sent until it is rewritten, so `forget` (and `compact`, which `keys rotate` calls) asks
Redis to rewrite it (BGREWRITEAOF) and waits until a rewrite that began after the
deletion has finished; likewise a new snapshot (BGSAVE) when Redis keeps RDB snapshots.
Forgets that come while a rewrite runs share the next one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.config import mask_url
from bot.errors import ConfigError, StoreError, StoreUnavailable, VersionConflict
from bot.stores.base import Record
from bot.stores.codec import decode, dropped, encode
from bot.stores.redis_files import rewrite_files

log = logging.getLogger("backcheck.stores")

TIMEOUT = 2.0  # seconds to connect, to wait for a free connection, and for any reply
COMPACT_TIMEOUT = 60.0  # seconds to wait for Redis to rewrite its files after a deletion
# Connections per process: as many as updates python-telegram-bot handles at once (256),
# so a burst never queues for a connection. Past that, a call waits (up to TIMEOUT) for a
# free one. redis-py's default pool instead fails at once past 100 ("Too many
# connections"): a burst of 200 people at once got 100 "try again later" replies.
MAX_CONNECTIONS = 256
SCAN_BATCH = 500

# Shared Lua helpers. `head` reads a record's version (nil when unreadable) and person;
# `reindex` moves a key from its old person's index to its new person's, and keeps the
# index alive at least as long as the longest-lived record in it.
LUA_HELPERS = """
local function head(key)
  local kind = redis.call('TYPE', key).ok
  if kind == 'none' then return 0, false end
  if kind ~= 'hash' then return nil, false end
  local f = redis.call('HMGET', key, 'v', 'p')
  return tonumber(f[1]), f[2]
end
local function reindex(key, old, new, ttl, prefix)
  if old and old ~= new then redis.call('SREM', prefix .. old, key) end
  if new == '' then return end
  local index = prefix .. new
  local existed = redis.call('EXISTS', index)
  redis.call('SADD', index, key)
  if ttl == '' then
    redis.call('PERSIST', index)
  else
    local left = redis.call('PTTL', index)
    if existed == 0 or (left >= 0 and left < tonumber(ttl)) then
      redis.call('PEXPIRE', index, ttl)
    end
  end
end
"""

# Every script declares itself (`#!lua`, Redis 7): a write is refused with OOM when Redis
# is over maxmemory (compose runs it with noeviction), and the person gets the kind "can't
# reach my memory" reply; deleting (delete, drop, forget) is allowed then (allow-oom).
# KEYS: record. ARGV: expected version, data, ttl ms or '', person or '', index prefix.
# Returns {1, new version} or {0, found version}. A record whose version is unreadable
# counts as expired (version 0), as CorruptRecord promises, so it can never wedge a key.
PUT = "#!lua\n" + LUA_HELPERS + """
local key = KEYS[1]
local current, owner = head(key)
current = current or 0
if current ~= tonumber(ARGV[1]) then return {0, current} end
local version = string.format('%d', current + 1)
redis.call('DEL', key)
if ARGV[4] == '' then
  redis.call('HSET', key, 'v', version, 'd', ARGV[2])
else
  redis.call('HSET', key, 'v', version, 'd', ARGV[2], 'p', ARGV[4])
end
if ARGV[3] ~= '' then redis.call('PEXPIRE', key, ARGV[3]) end
reindex(key, owner, ARGV[4], ARGV[3], ARGV[5])
return {1, current + 1}
"""

# KEYS: record. ARGV: amount, index prefix. Returns {new count, 1 or 0 if it was unreadable}.
INCR = "#!lua\n" + LUA_HELPERS + """
local key = KEYS[1]
local version, owner = head(key)
local count, readable = 0, 1
if version == nil then
  version, readable = 0, 0
elseif redis.call('EXISTS', key) == 1 then
  local ok, obj = pcall(cjson.decode, redis.call('HGET', key, 'd'))
  if ok and type(obj) == 'table' and (obj.n == nil or tonumber(obj.n)) then
    count = tonumber(obj.n) or 0
  else
    readable = 0
  end
end
count = count + tonumber(ARGV[1])
redis.call('DEL', key)
redis.call('HSET', key, 'v', string.format('%d', version + 1),
  'd', string.format('{"n":%d}', count))
reindex(key, owner, '', '', ARGV[2])
return {count, readable}
"""

# KEYS: record. ARGV: index prefix. Returns how many keys were deleted (0 or 1).
DELETE = "#!lua flags=allow-oom\n" + LUA_HELPERS + """
local _, owner = head(KEYS[1])
reindex(KEYS[1], owner, '', '', ARGV[1])
return redis.call('DEL', KEYS[1])
"""

# KEYS: record. ARGV: version and data as read, index prefix. Deletes an unreadable record
# unless someone has replaced it since it was read.
DROP = "#!lua flags=allow-oom\n" + LUA_HELPERS + """
local key = KEYS[1]
if redis.call('TYPE', key).ok == 'hash' then
  local f = redis.call('HMGET', key, 'v', 'd', 'p')
  if (f[1] or '') ~= ARGV[1] or (f[2] or '') ~= ARGV[2] then return 0 end
  reindex(key, f[3], '', '', ARGV[3])
end
return redis.call('DEL', key)
"""

# KEYS: the person's index. ARGV: person. Deletes the records still naming the person.
FORGET = """#!lua flags=allow-oom
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'none' and (kind ~= 'hash' or redis.call('HGET', key, 'p') == ARGV[1]) then
    n = n + redis.call('DEL', key)
  end
end
redis.call('DEL', KEYS[1])
return n
"""


def _ns_part(ns: str) -> str:
    """The namespace as it appears in a key: ':' escaped, so `<ns>:<key>` splits one way."""
    return ns.replace("%", "%25").replace(":", "%3A")


def _glob_escape(text: str) -> str:
    """`text` as a literal inside a SCAN MATCH pattern."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


def _ttl_ms(ttl: float | None) -> str:
    return "" if ttl is None else str(max(0, math.ceil(ttl * 1000)))


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """Turn redis-py's exceptions into ours: unreachable, timed out or read-only (a replica
    after failover) is StoreUnavailable; anything else Redis refuses is a StoreError."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError) as exc:
        raise StoreUnavailable(f"redis store: {type(exc).__name__}: {exc}") from exc
    except RedisError as exc:
        raise StoreError(f"redis store: {type(exc).__name__}: {exc}") from exc


def check_login(url: str) -> None:
    """Fail start-up with a ConfigError naming BACKCHECK_STORE (password masked) when Redis
    refuses the password or its TLS certificate does not verify. A Redis that is merely
    down is not an error here: the bot starts, /healthz says 503, and it recovers."""
    try:
        client = SyncRedis.from_url(url, socket_timeout=TIMEOUT,
                                    socket_connect_timeout=TIMEOUT)
    except ValueError as exc:
        raise ConfigError(f"BACKCHECK_STORE is not a usable Redis URL: {exc}") from exc
    try:
        client.ping()
    except AuthenticationError as exc:
        raise ConfigError(f"BACKCHECK_STORE={mask_url(url)}: Redis refused the login "
                          f"(wrong or missing password): {exc}") from None
    except RedisError as exc:  # NOAUTH and WRONGPASS replies are AuthenticationError
        if _tls_failure(exc):
            raise ConfigError(f"BACKCHECK_STORE={mask_url(url)}: Redis's TLS certificate "
                              "did not verify; name its CA with ?ssl_ca_certs=/path/ca.pem"
                              ) from None
    finally:
        client.close()
        client.connection_pool.disconnect()  # TLS sockets too, not left to the collector


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RedisStore:
    """Implements the Store protocol on Redis; connects lazily, on the first call."""

    def __init__(self, url: str, *, prefix: str = "bc", timeout: float = TIMEOUT) -> None:
        # One retry, on connection errors only: it replaces a pooled connection that Redis
        # closed (a restart) without the caller noticing. Timeouts are not retried, so a
        # hung server costs one timeout, and a script is never run twice after a lost reply.
        try:
            pool = BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=timeout,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                decode_responses=True,
            )
            self._client: Redis = Redis.from_pool(pool)  # closing the client closes the pool
        except ValueError as exc:  # the message names the problem, never the password
            raise ConfigError(f"BACKCHECK_STORE is not a usable Redis URL: {exc}") from exc
        self._prefix = prefix
        self._index_prefix = f"{prefix}-person:"
        self._put = self._client.register_script(PUT)
        self._incr = self._client.register_script(INCR)
        self._delete = self._client.register_script(DELETE)
        self._drop = self._client.register_script(DROP)
        self._forget = self._client.register_script(FORGET)
        self._compacting = asyncio.Lock()
        self._deletions = 0  # deletions made by this process that must leave the disk ...
        self._compacted = 0  # ... and how many of them a finished rewrite has covered

    def _key(self, ns: str, key: str) -> str:
        return f"{self._prefix}:{_ns_part(ns)}:{key}"

    async def get(self, ns: str, key: str) -> Record | None:
        full = self._key(ns, key)
        async with _translated():
            try:
                fields = await self._client.hmget(full, ["v", "d"])
            except ResponseError as exc:
                if not str(exc).startswith("WRONGTYPE"):
                    raise
                fields = ["", ""]  # not a hash: unreadable
            record = self._parse(fields)
            if record is None and fields != [None, None]:
                await self._drop_seen(full, fields)
                raise dropped("redis", ns, key)
        return record

    @staticmethod
    def _parse(fields: list[Any]) -> Record | None:
        """The record in HMGET's answer for (v, d); None when absent or unreadable."""
        version, raw = fields
        data = decode(raw)
        if data is None or not isinstance(version, str) or not version.isdigit():
            return None
        return Record(data, int(version))

    async def _drop_seen(self, full: str, fields: list[Any]) -> None:
        """Delete an unreadable record, unless it was replaced since it was read."""
        seen = [str(f) if f is not None else "" for f in fields]
        await self._drop(keys=[full], args=[*seen, self._index_prefix])

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
        args = [str(version), encode(data), _ttl_ms(ttl), person or "", self._index_prefix]
        async with _translated():
            ok, found = await self._put(keys=[self._key(ns, key)], args=args)
        if not ok:
            raise VersionConflict(f"{ns} record changed (expected {version}, found {found})")
        return int(found)

    async def delete(self, ns: str, key: str) -> None:
        async with _translated():
            await self._delete(keys=[self._key(ns, key)], args=[self._index_prefix])

    async def forget(self, person: str) -> int:
        async with _translated():
            n = await self._forget(keys=[self._index_prefix + person], args=[person])
        if n:
            await self.compact()
        return int(n)

    async def compact(self) -> bool:
        """Rewrite Redis's files so that no deleted record stays in them (see the module
        docstring). Failure is logged, not raised: the records are deleted either way,
        and a Redis that refuses BGREWRITEAOF (a managed service) rewrites on its own."""
        self._deletions += 1
        wanted = self._deletions
        async with self._compacting:
            if self._compacted >= wanted:
                return True  # a rewrite that began after our deletion has finished
            done = self._deletions
            try:
                async with _translated(), asyncio.timeout(COMPACT_TIMEOUT):
                    await rewrite_files(self._client)
            except (StoreError, TimeoutError) as exc:
                log.warning("redis store: could not rewrite Redis's files after a deletion "
                            "(%s); deleted records stay in them until Redis next rewrites "
                            "them", type(exc).__name__)
                return False
            self._compacted = done
            return True

    async def scan(self, ns: str) -> list[tuple[str, Record]]:
        """Every live record in the namespace, found with SCAN (never KEYS, which blocks)."""
        prefix = f"{self._prefix}:{_ns_part(ns)}:"
        async with _translated():
            keys = sorted({k async for k in self._client.scan_iter(
                match=_glob_escape(prefix) + "*", count=1000)})
            found: list[tuple[str, Record]] = []
            for start in range(0, len(keys), SCAN_BATCH):
                found += await self._fetch(ns, prefix, keys[start:start + SCAN_BATCH])
        return found

    async def _fetch(self, ns: str, prefix: str, keys: list[str]) -> list[tuple[str, Record]]:
        """Read a batch of records in one round trip; drop (and log) the unreadable ones."""
        async with self._client.pipeline(transaction=False) as pipe:
            for full in keys:
                pipe.hmget(full, ["v", "d"])
            answers = await pipe.execute(raise_on_error=False)
        found: list[tuple[str, Record]] = []
        for full, fields in zip(keys, answers, strict=True):
            if isinstance(fields, ResponseError):
                fields = ["", ""]
            elif isinstance(fields, Exception):
                raise fields
            record = self._parse(fields)
            if record is not None:
                found.append((full.removeprefix(prefix), record))
            elif fields != [None, None]:  # None, None: expired since the SCAN
                await self._drop_seen(full, fields)
                dropped("redis", ns, full.removeprefix(prefix))
        return found

    async def incr(self, ns: str, key: str, amount: int = 1) -> int:
        """Add to a counter; an unreadable counter is dropped and counts from zero."""
        async with _translated():
            count, readable = await self._incr(
                keys=[self._key(ns, key)], args=[amount, self._index_prefix])
        if not readable:
            dropped("redis", ns, key)
        return int(count)

    async def ping(self) -> None:
        async with _translated():
            await self._client.ping()

    async def close(self) -> None:
        """Close every pooled connection; a later call would open new ones."""
        async with _translated():
            await self._client.aclose()
