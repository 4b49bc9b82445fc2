"""One process of the shard failover e2e test: a lease keeper or a hot spare on real Redis.

Usage: ``python tests/e2e/shard_process.py keeper|spare NAME NAMESPACE REDIS_URL STALE_AFTER
[SHARD ...]``. Prints one line per event, flushed: ``ready``, ``promoted SHARD EPOCH``,
``fenced SHARD``. Runs until killed; lease time is the wall clock.
"""

from __future__ import annotations

import sys

import anyio

from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.redis.connection import open_redis
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.shard_supervisor import HotSpare, ShardLeaseKeeper
from vectobeat_core.ids import ShardId
from vectobeat_core.regions import Region


def say(*words: object) -> None:
    print(*words, flush=True)


async def fenced(shard: ShardId) -> None:
    say("fenced", shard)


async def promoted(shard: ShardId, epoch: int) -> None:
    say("promoted", shard, epoch)


async def main(role: str, name: str, namespace: str, url: str, stale: float, *shards: str) -> None:
    async with open_redis(url) as conn:
        store = RedisLeaseStore(conn, RedisKeys(namespace))
        service: ShardLeaseKeeper | HotSpare
        if role == "keeper":
            ids = [ShardId(int(shard)) for shard in shards]
            service = ShardLeaseKeeper(
                store, name, Region.EU, ids, stale, stale / 20, SystemClock(), fenced
            )
        else:
            service = HotSpare(
                store, name, Region.EU, stale, stale / 20, SystemClock(), MemoryAuditLog(), promoted
            )
        async with anyio.create_task_group() as tg:
            await tg.start(service.run)
            say("ready")


if __name__ == "__main__":
    role, name, namespace, url, stale, *shards = sys.argv[1:]
    anyio.run(main, role, name, namespace, url, float(stale), *shards)
