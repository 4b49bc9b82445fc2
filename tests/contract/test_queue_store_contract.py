"""QueueStore contract: every backend (memory, Redis, SQLite, MariaDB, PostgreSQL) stores, expires,
evicts and restores alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import anyio
import pytest
from sqlalchemy.engine import URL

from tests.redis_support import ManualClock, TtlHarness, make_track, redis_namespace
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.queue_store import SqlQueueStore
from vectobeat_adapters.sql.schema import queue_snapshots
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.ports import QueueStore
from vectobeat_core.queue import GuildQueue, LoopMode, PlayerState, QueueSnapshot

pytestmark = pytest.mark.anyio

PLAYER = PlayerState(
    position_ms=12_345,
    position_read_at=1_700_000_000.5,
    paused=True,
    volume=80,
    filters={"timescale": {"speed": 1.1}},
    voice_channel_id=ChannelId(222_222_222_222_222_222),
    node=NodeName("eu-1"),
    region="eu",
)


class Harness(TtlHarness[QueueStore]):
    """A store plus a way to make time pass, and (Redis, SQL) a second writer on the same data."""

    def __init__(self, name: str, store: QueueStore, clock: ManualClock | None) -> None:
        super().__init__(store, clock)
        self.name = name
        self.extra: list[QueueStore] = []


@pytest.fixture(params=["memory", "redis", "sqlite", "mysql", "postgres"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        clock = ManualClock()
        yield Harness("memory", MemoryQueueStore(clock), clock)
        return
    if request.param == "redis":
        async with redis_namespace() as (conn, keys):
            harness = Harness("redis", RedisQueueStore(conn, keys), None)
            harness.extra.append(RedisQueueStore(conn, keys))  # a second writer on the same keys
            yield harness
        return
    url: URL = request.getfixturevalue(f"{request.param}_url")  # migrated (contract conftest)
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_database(url))
        other = await stack.enter_async_context(open_database(url))  # as another process would
        async with db.engine.begin() as conn:
            await conn.execute(queue_snapshots.delete())
        harness = Harness(request.param, SqlQueueStore(db, clock), clock)
        harness.extra.append(SqlQueueStore(other, clock))
        yield harness


def build_queue(guild: int, size: int) -> GuildQueue:
    queue = GuildQueue(GuildId(guild))
    queue.add_many([make_track(guild * 10_000 + i) for i in range(size)])
    queue.next()
    queue.next()
    return queue


def snap(queue: GuildQueue, at: float = 1_700_000_100.0) -> QueueSnapshot:
    return queue.snapshot(PLAYER, at)


async def test_round_trip_keeps_everything(harness: Harness) -> None:
    queue = build_queue(1, 30)
    queue.set_loop(LoopMode.QUEUE)
    snapshot = snap(queue)
    assert snapshot.current is not None
    assert snapshot.history
    await harness.store.save(snapshot, 3600)
    assert await harness.store.load(GuildId(1)) == snapshot
    assert await harness.store.load(GuildId(2)) is None


async def test_a_stream_of_mutations_always_loads_the_latest(harness: Harness) -> None:
    queue = build_queue(3, 40)
    store = harness.store
    steps: list[Callable[[], object]] = [
        lambda: queue.add(make_track(999)),
        lambda: queue.remove(5),
        lambda: queue.move(1, 20),
        queue.next,
        lambda: queue.shuffle(7),
        lambda: queue.add(make_track(998), 1),
        lambda: queue.remove_range(2, 9),
        queue.dedupe,
        queue.unshuffle,
        lambda: queue.shuffle(8),
        queue.previous,
        queue.clear,
        lambda: queue.add_many([make_track(500 + i) for i in range(5)]),
    ]
    for number, step in enumerate(steps):
        step()
        snapshot = snap(queue, 1_700_000_100.0 + number)
        writer = store if number % 3 or not harness.extra else harness.extra[0]
        await writer.save(snapshot, 3600)
        assert await store.load(GuildId(3)) == snapshot, f"after step {number}"


async def test_snapshots_expire_after_their_ttl(harness: Harness) -> None:
    store = harness.store
    await store.save(snap(build_queue(4, 3)), 0.3)
    await store.save(snap(build_queue(5, 3)), None)
    assert await store.load(GuildId(4)) is not None

    async def gone() -> bool:
        return await store.load(GuildId(4)) is None

    assert await harness.eventually(0.31, gone)
    assert await store.guilds() == [GuildId(5)]
    assert await store.load(GuildId(5)) is not None
    restored = await store.load_all()
    assert [s.guild_id for s in restored.snapshots] == [GuildId(5)]


async def test_rewriting_renews_the_ttl(harness: Harness) -> None:
    store = harness.store
    queue = build_queue(6, 3)
    await store.save(snap(queue), 0.3)
    queue.add(make_track(1))
    await store.save(snap(queue), 3600)

    async def gone() -> bool:
        return await store.load(GuildId(6)) is None

    if harness.clock is not None:
        assert not await harness.eventually(0.5, gone)
    else:
        await anyio.sleep(0.5)
        assert not await gone()


async def test_evict_by_age_then_by_count(harness: Harness) -> None:
    store = harness.store
    for guild in range(10, 16):
        await store.save(snap(build_queue(guild, 2), at=1_700_000_000.0 + guild), None)
    evicted = await store.evict(older_than=1_700_000_012.0)
    assert sorted(evicted) == [GuildId(10), GuildId(11)]
    assert await store.load(GuildId(10)) is None
    evicted = await store.evict(max_guilds=2)
    assert sorted(evicted) == [GuildId(12), GuildId(13)]
    assert sorted(await store.guilds()) == [GuildId(14), GuildId(15)]
    assert await store.evict(older_than=0.0, max_guilds=5) == []


async def test_delete(harness: Harness) -> None:
    await harness.store.save(snap(build_queue(20, 2)), None)
    await harness.store.delete(GuildId(20))
    assert await harness.store.load(GuildId(20)) is None
    assert await harness.store.guilds() == []


async def test_concurrent_writers_lose_nothing(harness: Harness) -> None:
    store = harness.store
    queues = {guild: build_queue(guild, 20) for guild in range(30, 70)}
    shared = build_queue(99, 10)
    written: list[QueueSnapshot] = []

    async def write(guild: int) -> None:
        await store.save(snap(queues[guild]), None)
        shared.add(make_track(guild))
        snapshot = snap(shared)
        written.append(snapshot)
        await (harness.extra[0] if harness.extra and guild % 2 else store).save(snapshot, None)

    async with anyio.create_task_group() as tg:
        for guild in queues:
            tg.start_soon(write, guild)
    restored = await store.load_all()
    assert not restored.invalid
    by_guild = {s.guild_id: s for s in restored.snapshots}
    assert set(by_guild) == {*map(GuildId, queues), GuildId(99)}
    for guild, queue in queues.items():
        assert by_guild[GuildId(guild)] == snap(queue)
    assert by_guild[GuildId(99)] in written


async def test_redis_sends_only_the_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    async with redis_namespace() as (conn, keys):
        store = RedisQueueStore(conn, keys)
        sent: list[int] = []
        original = RedisQueueStore._run_write

        async def spy(self: RedisQueueStore, k: list[str], args: list[object], guild: int) -> bool:
            sent.append(sum(len(a) if isinstance(a, bytes | str) else 8 for a in args))
            return await original(self, k, args, guild)

        monkeypatch.setattr(RedisQueueStore, "_run_write", spy)
        queue = build_queue(7, 1000)
        await store.save(snap(queue), None)
        queue.remove(500)
        queue.add(make_track(123_456), 10)
        await store.save(snap(queue), None)
        assert len(sent) == 2
        assert sent[1] * 20 <= sent[0]
        assert await store.load(GuildId(7)) == snap(queue)


async def test_the_generation_is_stable_while_the_data_lives(harness: Harness) -> None:
    store = harness.store
    first = await store.generation()
    await store.save(snap(build_queue(31, 3)), 60)
    assert first and await store.generation() == first
    for other in harness.extra:  # another process sees the same generation
        assert await other.generation() == first


async def test_a_redis_that_lost_its_data_has_a_new_generation() -> None:
    async with redis_namespace() as (conn, keys):
        store = RedisQueueStore(conn, keys)
        first = await store.generation()
        doomed = [key async for key in conn.client.scan_iter(match=keys.everything_pattern())]
        await conn.client.delete(*doomed)  # what FLUSHALL does to our namespace
        second = await store.generation()
        assert second != first
        assert await store.generation() == second
