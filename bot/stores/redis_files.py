"""Rewriting Redis's files after a deletion, so the deleted records leave the disk too.

Redis's append-only file keeps every write until it is rewritten, and an RDB snapshot
keeps what was there when it was taken. `rewrite_files` starts BGREWRITEAOF (when the
append-only file is on) and BGSAVE (when snapshots are kept), each after any rewrite
already running, and waits until each has finished.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.errors import StoreError

POLL = 0.02  # seconds between looks at whether a rewrite is done


async def rewrite_files(client: Redis) -> None:
    """BGREWRITEAOF (when the append-only file is on) and BGSAVE (when snapshots are
    kept), each started after any rewrite already running, and waited for."""
    info = await client.info("persistence")
    if int(info.get("aof_enabled", 0)):
        await _background(client, "bgrewriteaof", "aof_rewrites", "aof_rewrite_in_progress",
                          "aof_rewrite_scheduled", "aof_last_bgrewrite_status")
    if await _snapshots(client):
        await _background(client, "bgsave", "rdb_saves", "rdb_bgsave_in_progress",
                          "rdb_bgsave_in_progress", "rdb_last_bgsave_status")


async def _snapshots(client: Redis) -> bool:
    """Whether Redis keeps RDB snapshots (a `save` schedule); False when it will not say."""
    try:
        return bool((await client.config_get("save")).get("save"))
    except ResponseError:
        return False


async def _background(client: Redis, command: str, counter: str, running: str, queued: str,
                      status: str) -> None:
    """Start a background rewrite once none is running and wait until it is done."""
    while True:
        info = await client.info("persistence")
        if not (int(info.get(running, 0)) or int(info.get(queued, 0))):
            try:
                await (client.bgsave() if command == "bgsave" else client.bgrewriteaof())
                break
            except ResponseError as exc:
                if "in progress" not in str(exc):
                    raise
        await asyncio.sleep(POLL)
    while True:
        after = await client.info("persistence")
        started = counter not in info or int(after[counter]) > int(info[counter])
        if started and not (int(after.get(running, 0)) or int(after.get(queued, 0))):
            break
        await asyncio.sleep(POLL)
    if after.get(status) != "ok":
        raise StoreError(f"redis store: {command.upper()} failed")
