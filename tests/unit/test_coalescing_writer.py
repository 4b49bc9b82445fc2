"""CoalescingWriter: one write per guild per window, latest state wins, failures retried and reported."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import anyio
import pytest

from tests.redis_support import ManualClock, make_track
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.redis.writer import DEFAULT_WINDOW, CoalescingWriter
from vectobeat_core.errors import InvalidSnapshot, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot

pytestmark = pytest.mark.anyio


class CountingStore(MemoryQueueStore):
    """A memory store that counts saves and can fail the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__(ManualClock())
        self.saves: list[QueueSnapshot] = []
        self.failures = failures

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("Redis at test: down for the test.")
        self.saves.append(snapshot)
        await super().save(snapshot, ttl)


def latest_is(store: CountingStore, version: int) -> bool:
    return bool(store.saves) and store.saves[-1].version == version


def snap(queue: GuildQueue) -> QueueSnapshot:
    return queue.snapshot(PlayerState(), float(queue.version))


async def wait_for(condition: Callable[[], object]) -> None:
    for _ in range(2000):  # up to ~10 s
        if condition():
            return
        await anyio.sleep(0.005)
    raise AssertionError("the writer did not get there")


def test_the_default_window_is_at_most_250_ms() -> None:
    assert DEFAULT_WINDOW <= 0.25


async def test_a_burst_costs_one_write_with_the_latest_state() -> None:
    store = CountingStore()
    writer = CoalescingWriter(store, window=0.05)
    queue = GuildQueue(GuildId(1))
    for n in range(100):
        queue.add(make_track(n))
        writer.mark_dirty(GuildId(1), lambda: snap(queue), 60)
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        await wait_for(lambda: store.saves)
        tg.cancel_scope.cancel()
    assert len(store.saves) == 1
    assert store.saves[0].version == 100
    assert await store.load(GuildId(1)) == snap(queue)


async def test_later_mutations_are_written_in_a_later_round() -> None:
    store = CountingStore()
    writer = CoalescingWriter(store, window=0.02)
    queue = GuildQueue(GuildId(2))
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        for n in range(5):
            queue.add(make_track(n))
            writer.mark_dirty(GuildId(2), lambda: snap(queue))
            await wait_for(partial(latest_is, store, n + 1))
        tg.cancel_scope.cancel()
    assert [s.version for s in store.saves] == [1, 2, 3, 4, 5]


async def test_failures_are_reported_and_retried_until_written() -> None:
    store = CountingStore(failures=2)
    errors: list[tuple[GuildId, Exception]] = []
    writer = CoalescingWriter(
        store,
        window=0.01,
        backoff_base=0.01,
        on_error=lambda guild, exc: errors.append((guild, exc)),
    )
    queue = GuildQueue(GuildId(3))
    queue.add(make_track(1))
    writer.mark_dirty(GuildId(3), lambda: snap(queue))
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        await wait_for(lambda: store.saves)
        tg.cancel_scope.cancel()
    assert [guild for guild, _ in errors] == [GuildId(3), GuildId(3)]
    assert all(isinstance(exc, StorageUnavailable) for _, exc in errors)
    assert await store.load(GuildId(3)) == snap(queue)
    assert writer.pending == 0


async def test_flush_writes_everything_or_names_what_it_could_not() -> None:
    store = CountingStore()
    writer = CoalescingWriter(store, backoff_base=0.001)
    queues = {GuildId(g): GuildQueue(GuildId(g)) for g in (4, 5, 6)}
    for guild, queue in queues.items():
        queue.add(make_track(guild))
        writer.mark_dirty(guild, partial(snap, queue))
    await writer.flush()
    assert sorted(s.guild_id for s in store.saves) == [4, 5, 6]
    broken = CoalescingWriter(CountingStore(failures=100), backoff_base=0.001)
    broken.mark_dirty(GuildId(7), lambda: snap(queues[GuildId(4)]))
    with pytest.raises(StorageUnavailable, match="guild\\(s\\) 7"):
        await broken.flush(attempts=3)
    assert broken.pending == 1


async def test_a_broken_snapshot_function_is_reported_not_retried() -> None:
    store = CountingStore()
    errors: list[Exception] = []
    writer = CoalescingWriter(store, on_error=lambda _, exc: errors.append(exc))

    def broken() -> QueueSnapshot:
        raise InvalidSnapshot("bad")

    writer.mark_dirty(GuildId(8), broken)
    await writer.flush()
    assert len(errors) == 1
    assert writer.pending == 0
    assert store.saves == []
