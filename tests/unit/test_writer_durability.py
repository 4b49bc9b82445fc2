"""CoalescingWriter.durable: an acknowledgement waits for a write that started after the change;
a store that is down or hangs sends the change to the local journal, replayed when it is back."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from tests.redis_support import ManualClock, make_track
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.queue_journal import QueueJournal
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_core.durability import Durability
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot

pytestmark = pytest.mark.anyio

G = GuildId(41)


class GatedStore(MemoryQueueStore):
    """A memory store whose saves can be held (``gate``), failed (``down``) or hung (``hang``)."""

    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.saves: list[QueueSnapshot] = []
        self.gate: anyio.Event | None = None
        self.started = anyio.Event()
        self.down = False
        self.hang = False

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        self.started.set()
        if self.hang:
            await anyio.sleep_forever()
        if self.down:
            raise StorageUnavailable("Redis at test: down for the test.")
        if self.gate is not None:
            await self.gate.wait()
        self.saves.append(snapshot)
        await super().save(snapshot, ttl)

    async def ping(self) -> None:
        if self.down or self.hang:
            raise StorageUnavailable("Redis at test: down for the test.")


def recovered(writer: CoalescingWriter) -> bool:
    return not (writer.journaled or writer.store_down)


def snap(queue: GuildQueue) -> QueueSnapshot:
    return queue.snapshot(PlayerState(), float(queue.version))


async def test_durable_waits_for_a_write_that_started_after_the_change() -> None:
    store = GatedStore()
    store.gate = anyio.Event()
    writer = CoalescingWriter(store, window=60)  # a waiter cuts the linger short
    queue = GuildQueue(G)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            queue.add(make_track(1))
            writer.mark_dirty(G, lambda: snap(queue))
            await store.started.wait()  # round 1 is in flight with version 1
            queue.add(make_track(2))
            writer.mark_dirty(G, lambda: snap(queue))
            seen: list[int] = []

            async def acknowledge() -> None:
                assert await writer.durable(G) is Durability.STORED
                seen.append(store.saves[-1].version)

            tg.start_soon(acknowledge)
            await anyio.lowlevel.checkpoint()
            store.gate.set()  # round 1 completes: not enough for the second change
            while not seen:  # noqa: ASYNC110 - the acknowledgement is what we wait for
                await anyio.sleep(0.001)
            tg.cancel_scope.cancel()
    assert seen == [2]
    assert [s.version for s in store.saves] == [1, 2]


async def test_an_idle_writer_writes_at_once_and_marks_in_flight_are_grouped() -> None:
    store = GatedStore()
    writer = CoalescingWriter(store)  # no linger: a write starts as soon as a guild is dirty
    queue = GuildQueue(G)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            for round_ in range(3):
                queue.add(make_track(round_))
                writer.mark_dirty(G, lambda: snap(queue))
                assert await writer.durable(G) is Durability.STORED
            store.gate = anyio.Event()
            store.started = anyio.Event()
            queue.add(make_track(10))
            writer.mark_dirty(G, lambda: snap(queue))
            await store.started.wait()
            results: list[Durability] = []

            async def add(n: int) -> None:
                queue.add(make_track(100 + n))
                writer.mark_dirty(G, lambda: snap(queue))
                results.append(await writer.durable(G))

            async with anyio.create_task_group() as adds:
                for n in range(20):
                    adds.start_soon(add, n)
                await anyio.sleep(0.01)
                store.gate.set()
            tg.cancel_scope.cancel()
    assert results == [Durability.STORED] * 20
    assert len(store.saves) == 5  # 3 single rounds, the in-flight one, one for all 20 adds
    assert store.saves[-1].version == queue.version


async def test_a_store_that_is_down_sends_changes_to_the_journal_then_they_are_replayed(
    tmp_path: Path,
) -> None:
    store = GatedStore()
    store.down = True
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:
        writer = CoalescingWriter(store, journal=journal, backoff_base=0.01, backoff_cap=0.05)
        queues = {GuildId(g): GuildQueue(GuildId(g)) for g in (1, 2, 3)}
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                for guild, queue in queues.items():
                    queue.add(make_track(guild))
                    writer.mark_dirty(guild, lambda q=queue: snap(q))  # type: ignore[misc]
                    assert await writer.durable(guild) is Durability.JOURNALED
                queues[GuildId(1)].add(make_track(9))
                writer.mark_dirty(GuildId(1), lambda: snap(queues[GuildId(1)]))
                assert await writer.durable(GuildId(1)) is Durability.JOURNALED
                assert writer.store_down
                assert store.saves == []
                assert sorted(e.guild_id for e in await journal.entries()) == [1, 2, 3]
                store.down = False
                while not recovered(writer):  # noqa: ASYNC110 - another task's progress
                    await anyio.sleep(0.005)
                tg.cancel_scope.cancel()
        assert await journal.entries() == []
    for guild, queue in queues.items():
        assert await store.load(guild) == snap(queue)
    assert writer.replayed == 3


async def test_a_store_that_hangs_is_bounded_by_the_write_timeout(tmp_path: Path) -> None:
    store = GatedStore()
    store.hang = True
    queue = GuildQueue(G)
    queue.add(make_track(1))
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:
        writer = CoalescingWriter(store, journal=journal, write_timeout=0.05)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                writer.mark_dirty(G, lambda: snap(queue))
                assert await writer.durable(G) is Durability.JOURNALED
                tg.cancel_scope.cancel()
        [entry] = await journal.entries()
    assert entry.snapshot == snap(queue)


async def test_without_a_journal_a_change_the_store_refuses_is_not_saved() -> None:
    store = GatedStore()
    store.down = True
    writer = CoalescingWriter(store, backoff_base=0.01)
    queue = GuildQueue(G)
    queue.add(make_track(1))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            writer.mark_dirty(G, lambda: snap(queue))
            assert await writer.durable(G, timeout=0.1) is Durability.NOT_SAVED
            store.down = False
            assert await writer.durable(G) is Durability.STORED
            tg.cancel_scope.cancel()


async def test_replay_never_overwrites_a_later_stored_snapshot(tmp_path: Path) -> None:
    store = GatedStore()
    older = GuildQueue(G)
    older.add(make_track(1))
    newer = GuildQueue(G)
    newer.add(make_track(2))
    newer.add(make_track(3))
    later = newer.snapshot(PlayerState(), 2_000.0)
    await store.save(later)
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:
        await journal.put(older.snapshot(PlayerState(), 1_000.0), None)
        writer = CoalescingWriter(store, journal=journal)
        assert await writer.replay_journal() == 0
        assert await journal.entries() == []
    assert await store.load(G) == later


async def test_replay_at_start_writes_the_journal_and_a_failing_store_keeps_it(
    tmp_path: Path,
) -> None:
    store = GatedStore()
    queue = GuildQueue(G)
    queue.add(make_track(1))
    path = tmp_path / "journal.sqlite3"
    async with QueueJournal(path) as journal:
        await journal.put(snap(queue), 60.0)
    store.down = True
    async with QueueJournal(path) as journal:  # a restart with the store still down
        writer = CoalescingWriter(store, journal=journal)
        with pytest.raises(StorageUnavailable):
            await writer.replay_journal()
        assert writer.store_down and writer.journaled == 1
        assert [e.snapshot for e in await writer.journaled_snapshots()] == [snap(queue)]
    store.down = False
    async with QueueJournal(path) as journal:  # and once more with the store back
        writer = CoalescingWriter(store, journal=journal)
        assert await writer.replay_journal() == 1
        assert await journal.entries() == []
    assert await store.load(G) == snap(queue)


async def test_erasing_a_guild_drops_its_journal_entries_and_pending_write(tmp_path: Path) -> None:
    store = GatedStore()
    store.down = True
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:
        writer = CoalescingWriter(store, journal=journal, backoff_base=0.01, backoff_cap=0.05)
        queues = {GuildId(g): GuildQueue(GuildId(g)) for g in (1, 2)}
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                for guild, queue in queues.items():
                    queue.add(make_track(guild))
                    writer.mark_dirty(guild, lambda q=queue: snap(q))  # type: ignore[misc]
                    assert await writer.durable(guild) is Durability.JOURNALED
                queues[GuildId(1)].add(make_track(9))
                writer.mark_dirty(GuildId(1), lambda: snap(queues[GuildId(1)]))  # pending
                assert await writer.erase(GuildId(1)) == 1
                assert [e.guild_id for e in await journal.entries()] == [2]
                store.down = False
                while not recovered(writer):  # noqa: ASYNC110 - another task's progress
                    await anyio.sleep(0.005)
                tg.cancel_scope.cancel()
        await writer.flush()
    assert await store.load(GuildId(1)) is None  # neither replayed nor written by the flush
    assert await store.load(GuildId(2)) == snap(queues[GuildId(2)])
