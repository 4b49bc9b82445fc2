"""PlayerService: a queue change returns to its cog only once durable, and says so when it is not."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import anyio
import pytest

from tests.redis_support import ManualClock, make_track
from vectobeat_adapters.lavalink.cluster import LavalinkCluster
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.queue_journal import QueueJournal
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_adapters.services import memory_services
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import LoopMode, QueueSnapshot

pytestmark = pytest.mark.anyio

G = GuildId(1_100_000_000_000_000_001)


class NoPlayers:
    """The cluster as ``PlayerService.snapshot`` reads it: no guild has a Lavalink player."""

    def player(self, guild_id: GuildId) -> None:
        return None


class SwitchStore(MemoryQueueStore):
    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.down = False

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        if self.down:
            raise StorageUnavailable("Redis at test: down for the test.")
        await super().save(snapshot, ttl)

    async def ping(self) -> None:
        if self.down:
            raise StorageUnavailable("Redis at test: down for the test.")


def service_with(store: SwitchStore, writer: CoalescingWriter) -> PlayerService:
    services = memory_services()
    return PlayerService(
        cluster=cast("LavalinkCluster", NoPlayers()),
        store=store,
        writer=writer,
        settings=SettingsSync(
            bridge=None, channel=None, catalogue=services.catalogue, clock=services.clock
        ),
        queue_sync=QueueSync(bridge=None, telemetry=services.telemetry),
        audit=services.audit,
        clock=services.clock,
        seed=lambda: 7,
    )


async def test_a_change_returns_only_once_it_is_in_the_store() -> None:
    store = SwitchStore()
    writer = CoalescingWriter(store, window=60)  # the acknowledgement cuts the linger short
    service = service_with(store, writer)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            for mode in (LoopMode.QUEUE, LoopMode.TRACK, LoopMode.OFF):
                await service.set_loop(G, mode)
                stored = await store.load(G)  # no waiting: the reply may go out now
                assert stored is not None and stored.player.loop is mode
            tg.cancel_scope.cancel()


async def test_a_change_the_store_refuses_is_journaled_and_acknowledged(tmp_path: Path) -> None:
    store = SwitchStore()
    store.down = True
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:
        writer = CoalescingWriter(store, journal=journal, backoff_base=10)
        service = service_with(store, writer)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                await service.set_loop(G, LoopMode.QUEUE)
                [entry] = await journal.entries()
                assert entry.snapshot.player.loop is LoopMode.QUEUE
                tg.cancel_scope.cancel()


async def test_a_change_saved_nowhere_is_made_but_the_reply_says_it_is_not_saved() -> None:
    store = SwitchStore()
    store.down = True
    writer = CoalescingWriter(store, ack_timeout=0.2)
    service = service_with(store, writer)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            with pytest.raises(StorageUnavailable, match="not saved yet"):
                await service.set_loop(G, LoopMode.QUEUE)
            session = service.peek(G)
            assert session is not None and session.queue.loop is LoopMode.QUEUE
            tg.cancel_scope.cancel()


async def test_a_shuffle_is_stored_with_its_undo_before_the_reply() -> None:
    store = SwitchStore()
    writer = CoalescingWriter(store, window=60)
    service = service_with(store, writer)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            added = await service.edit(G, lambda q: q.add_many(make_track(i) for i in range(6)))
            await service.edit(G, lambda q: q.shuffle(3))
            stored = await store.load(G)
            assert stored is not None
            assert stored.unshuffled == tuple(e.entry_id for e in added)
            await service.edit(G, lambda q: q.unshuffle())
            stored = await store.load(G)
            assert stored is not None and stored.unshuffled is None
            assert stored.entries == added
            tg.cancel_scope.cancel()
