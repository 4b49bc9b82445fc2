"""Queue durability benchmark: how long an add waits to be durable, and how fast a flushed Redis
gets every guild back.

1. **Durable wait.** ``--guilds`` guilds (default 200) each with a queue; ``--adds`` adds (default
   2,000) run ``--parallel`` at a time (default 20): each appends a track, marks the guild dirty
   in the ``CoalescingWriter`` and times ``await writer.durable(guild)``, the wait every reply to
   a queue change now has. Measured against the in-memory store, the SQL store on a SQLite file
   (the default without Redis), Redis (a private key namespace on
   ``--redis``), and the local SQLite journal (Redis behind a ``FaultProxy`` that cuts every
   connection, so each change is journaled). ``writes/add`` shows the group commit at work.
2. **Resync.** A private ``redis-server`` on a free port holds ``--resync-guilds`` guilds (default
   1,000) of 20 tracks each; it is flushed (``FLUSHALL``) while the bot-side ``GenerationWatch``
   (1 s interval) and writer run: the figure is the time until every guild's snapshot is back.

Run: ``python bench/durability_bench.py`` (about 30 s). Prints a table; the last line is one JSON
object with every figure. Figures only: a benchmark asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from vectobeat_adapters.config import load_config
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.queue_journal import QueueJournal
from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.connection import RedisSettings
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_adapters.services import open_services
from vectobeat_adapters.store_generation import GenerationWatch
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import QueueStore
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_core.tracks import Track
from vectobeat_testkit.faultproxy import FaultProxy
from vectobeat_testkit.redis_server import private_redis_server

RESYNC_TRACKS = 20


class _Clock:
    def now(self) -> float:
        return time.time()


class CountingJournal(QueueJournal):
    """A journal that counts its puts."""

    puts = 0

    async def put(self, snapshot: QueueSnapshot, ttl: float | None) -> int:
        self.puts += 1
        return await super().put(snapshot, ttl)


class CountingStore:
    """Wraps a store and counts its saves."""

    def __init__(self, inner: QueueStore) -> None:
        self.inner = inner
        self.saves = 0

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        await self.inner.save(snapshot, ttl)
        self.saves += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def track(n: int) -> Track:
    return Track(
        encoded=f"enc{n}", title=f"Track {n}", author="Bench", length=180_000,
        identifier=f"id{n:08d}", is_stream=False, is_seekable=True, uri=None, artwork_url=None,
        isrc=None, source="youtube",
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def durable_waits(
    store: QueueStore, journal: CountingJournal | None, guilds: int, adds: int, parallel: int
) -> dict[str, float]:
    counting = CountingStore(store)
    writer = CoalescingWriter(counting, journal=journal)
    queues = {GuildId(10_000 + g): GuildQueue(GuildId(10_000 + g)) for g in range(guilds)}
    order = list(queues)
    waits: list[float] = []
    kinds: dict[str, int] = {}
    limiter = anyio.Semaphore(parallel)

    async def add(n: int) -> None:
        guild = order[n % len(order)]
        queue = queues[guild]
        async with limiter:
            queue.add(track(n))
            writer.mark_dirty(guild, lambda: queue.snapshot(PlayerState(), time.time()), 600)
            start = time.perf_counter()
            how = await writer.durable(guild, timeout=10)
            waits.append(time.perf_counter() - start)
            kinds[how.value] = kinds.get(how.value, 0) + 1

    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        async with anyio.create_task_group() as adds_tg:
            for n in range(adds):
                adds_tg.start_soon(add, n)
        tg.cancel_scope.cancel()
    journaled = 0 if journal is None else journal.puts
    return {
        "p50_ms": statistics.median(waits) * 1000,
        "p99_ms": percentile(waits, 0.99) * 1000,
        "max_ms": max(waits) * 1000,
        "writes_per_add": (counting.saves + journaled) / adds,
        "not_saved": kinds.get("not_saved", 0),
    }


async def resync(guilds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with private_redis_server(Path(tmp)) as url, open_redis(url) as conn:
            store = RedisQueueStore(conn, RedisKeys())
            writer = CoalescingWriter(store)
            queues: dict[GuildId, GuildQueue] = {}
            for g in range(guilds):
                guild = GuildId(20_000 + g)
                queue = GuildQueue(guild)
                queue.add_many([track(g * 100 + i) for i in range(RESYNC_TRACKS)])
                queue.next()
                queues[guild] = queue

            def snapshot_of(queue: GuildQueue) -> QueueSnapshot:
                return queue.snapshot(PlayerState(), time.time())

            def mark_all() -> int:
                for guild, queue in queues.items():
                    writer.mark_dirty(guild, functools.partial(snapshot_of, queue), None)
                return len(queues)

            watch = GenerationWatch(store, mark_all)
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                mark_all()
                await writer.flush()
                await tg.start(watch.run)
                await conn.client.flushall()
                start = time.perf_counter()
                noticed = None
                while True:
                    if noticed is None and watch.resyncs:
                        noticed = time.perf_counter() - start
                    if await conn.client.zcard(RedisKeys().queue_index()) >= guilds:
                        break
                    await anyio.sleep(0.01)
                back = time.perf_counter() - start
                tg.cancel_scope.cancel()
            restored = await store.load_all()
            complete = sum(1 for s in restored.snapshots if len(s.entries) == RESYNC_TRACKS - 1)
    return {
        "guilds": guilds,
        "noticed_s": noticed if noticed is not None else back,
        "all_back_s": back,
        "complete_guilds": complete,
    }


SCENARIOS = ("spread", "one guild")
"""``spread``: the adds go round ``--guilds`` guilds; ``one guild``: every add in the same guild
(the group commit: the adds in flight together share writes)."""


async def run(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    spread = {"spread": args.guilds, "one guild": 1}
    for scenario, guilds in spread.items():
        figures[f"memory/{scenario}"] = await durable_waits(
            MemoryQueueStore(_Clock()), None, guilds, args.adds, args.parallel
        )
    with tempfile.TemporaryDirectory() as tmp:  # the Quickstart default: a SQLite file
        config = load_config(environ={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db"})
        async with open_services(config) as services:
            for scenario, guilds in spread.items():
                figures[f"sqlite/{scenario}"] = await durable_waits(
                    services.queues, None, guilds, args.adds, args.parallel
                )
    port = int(args.redis.rsplit(":", 1)[1].split("/")[0])
    keys = RedisKeys(f"vbbench-{uuid.uuid4().hex[:8]}:")
    async with open_redis(args.redis) as conn:
        try:
            for scenario, guilds in spread.items():
                figures[f"redis/{scenario}"] = await durable_waits(
                    RedisQueueStore(conn, keys), None, guilds, args.adds, args.parallel
                )
        finally:
            doomed = [k async for k in conn.client.scan_iter(match=keys.everything_pattern())]
            for start in range(0, len(doomed), 500):
                await conn.client.delete(*doomed[start : start + 500])
    quick = RedisSettings(retries=1, backoff_base=0.01)
    for scenario, guilds in spread.items():
        async with FaultProxy(port) as proxy:
            with tempfile.TemporaryDirectory() as tmp:
                async with (
                    open_redis(f"redis://127.0.0.1:{proxy.port}/0", settings=quick) as conn,
                    CountingJournal(Path(tmp) / "journal.sqlite3") as journal,
                ):
                    proxy.cut()
                    figures[f"journal/{scenario}"] = await durable_waits(
                        RedisQueueStore(conn, keys), journal, guilds, args.adds, args.parallel
                    )
    figures["resync"] = await resync(args.resync_guilds)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/durability_bench.py")
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument("--adds", type=int, default=2000)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--resync-guilds", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    figures = anyio.run(run, args)
    out = sys.stdout
    out.write(f"durable wait of an add ({args.adds} adds, {args.parallel} at a time, "
              f"{args.guilds} guilds)\n")  # fmt: skip
    out.write(
        f"{'store':<10}{'adds go to':<12}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
        f"{'writes/add':>12}\n"
    )
    for name in ("memory", "sqlite", "redis", "journal"):
        for scenario in SCENARIOS:
            f = figures[f"{name}/{scenario}"]
            out.write(
                f"{name:<10}{scenario:<12}{f['p50_ms']:>10.2f}{f['p99_ms']:>10.2f}"
                f"{f['max_ms']:>10.2f}{f['writes_per_add']:>12.3f}\n"
            )
    r = figures["resync"]
    out.write(
        f"\nRedis flushed with {r['guilds']} guilds playing: noticed after {r['noticed_s']:.2f} s, "
        f"every snapshot back after {r['all_back_s']:.2f} s ({r['complete_guilds']} complete)\n"
    )
    out.write(json.dumps(figures, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
