"""The writer process of the Redis crash test (run as a script; its mutations replayable by import).

It applies a deterministic stream of queue mutations to several guilds, persisting through
``CoalescingWriter`` + ``RedisQueueStore``, until it is killed. Every mutation is logged
(``M guild version monotonic-time``) and fsynced *before* the guild is marked dirty, so any version
that can reach Redis is in the log; every save is logged too (``S``/``D`` lines: start and done).
"""

from __future__ import annotations

import os
import random
import sys
import time
from functools import partial
from typing import TextIO

import anyio

from vectobeat_adapters.redis.connection import open_redis
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_core.tracks import Track

PLAYER = PlayerState(volume=70)
GUILDS = tuple(GuildId(900_000 + n) for n in range(6))


def track(n: int) -> Track:
    from tests.redis_support import make_track

    return make_track(n)


def mutate(queue: GuildQueue, rng: random.Random) -> None:
    """One mutation chosen by ``rng``; it always bumps ``queue.version``."""
    before = queue.version
    while queue.version == before:
        roll = rng.random()
        size = len(queue)
        if roll < 0.45 or size < 2:
            queue.add(track(rng.randrange(1_000_000)), rng.randint(1, size + 1))
        elif roll < 0.6:
            queue.next()
        elif roll < 0.75:
            queue.move(rng.randint(1, size), rng.randint(1, size))
        elif roll < 0.9:
            queue.remove(rng.randint(1, size))
        else:
            queue.shuffle(rng.randrange(1 << 30))


def snapshot_of(queue: GuildQueue) -> QueueSnapshot:
    return queue.snapshot(PLAYER, float(queue.version))


def replay(guild: GuildId, seed: int, version: int) -> QueueSnapshot:
    """The snapshot the writer held for ``guild`` at ``version``."""
    queue = GuildQueue(guild)
    rng = random.Random(seed * 1_000_003 + guild)
    while queue.version < version:
        mutate(queue, rng)
    return snapshot_of(queue)


class LoggingStore:
    """Wraps the store to log each save's start and end."""

    def __init__(self, inner: RedisQueueStore, log: TextIO) -> None:
        self._inner = inner
        self._log = log

    def _line(self, text: str) -> None:
        self._log.write(text)
        self._log.flush()
        os.fsync(self._log.fileno())

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        self._line(f"S {snapshot.guild_id} {snapshot.version} {time.monotonic()!r}\n")
        await self._inner.save(snapshot, ttl)
        self._line(f"D {snapshot.guild_id} {snapshot.version} {time.monotonic()!r}\n")

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


async def main(url: str, namespace: str, log: TextIO, seed: int, window: float) -> None:
    async with open_redis(url) as conn:
        store = LoggingStore(RedisQueueStore(conn, RedisKeys(namespace)), log)
        writer = CoalescingWriter(store, window=window)  # type: ignore[arg-type]
        queues = {guild: GuildQueue(guild) for guild in GUILDS}
        rngs = {guild: random.Random(seed * 1_000_003 + guild) for guild in GUILDS}
        picker = random.Random(seed)
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            count = 0
            while True:
                guild = picker.choice(GUILDS)
                queue = queues[guild]
                mutate(queue, rngs[guild])
                store._line(f"M {guild} {queue.version} {time.monotonic()!r}\n")
                writer.mark_dirty(guild, partial(snapshot_of, queue), 600)
                count += 1
                if count == 50:
                    print("ready", flush=True)
                await anyio.sleep(0.001)


if __name__ == "__main__":
    with open(sys.argv[3], "a") as log_file:
        anyio.run(main, sys.argv[1], sys.argv[2], log_file, int(sys.argv[4]), float(sys.argv[5]))
