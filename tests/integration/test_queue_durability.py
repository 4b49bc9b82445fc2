"""The Quickstart default keeps queues: with no ``REDIS_URL``, ``open_services`` stores queue
snapshots in the SQL database, so a snapshot saved before a close is there after a reopen; with
``REDIS_URL`` the queues stay in Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import service_url
from tests.redis_support import make_track

from vectobeat_adapters.config import load_config
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.services import open_services
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot

pytestmark = pytest.mark.anyio

GUILD = GuildId(455_555_555_555_555_555)


def snapshot() -> QueueSnapshot:
    queue = GuildQueue(GUILD)
    queue.add_many([make_track(n) for n in range(12)])
    queue.next()
    player = PlayerState(
        position_ms=42_000,
        position_read_at=1_700_000_000.0,
        volume=65,
        voice_channel_id=ChannelId(466_666_666_666_666_666),
        node=NodeName("eu-1"),
        region="eu",
    )
    return queue.snapshot(player, 1_700_000_001.0)


async def test_a_saved_queue_survives_closing_and_reopening_the_services(tmp_path: Path) -> None:
    config = load_config(environ={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'vb.db'}"})
    assert config.redis_url is None
    saved = snapshot()
    async with open_services(config) as services:
        await services.queues.save(saved, 3600)
    async with open_services(config) as services:
        assert await services.queues.load(GUILD) == saved
        restored = await services.queues.load_all()
        assert restored.snapshots == (saved,) and restored.invalid == ()
        await services.queues.delete(GUILD)
    async with open_services(config) as services:
        assert await services.queues.load(GUILD) is None


async def test_redis_stays_the_queue_store_when_configured(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'vb.db'}",
            "REDIS_URL": service_url("redis"),
        }
    )
    async with open_services(config) as services:
        assert isinstance(services.queues, RedisQueueStore)


async def test_an_emptied_sql_store_has_a_new_generation(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "vb.db"
    config = load_config(environ={"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    async with open_services(config) as services:
        first = await services.queues.generation()
    async with open_services(config) as services:
        assert await services.queues.generation() == first  # the same data, the same generation
    with sqlite3.connect(path) as raw:  # an operator restores an old dump / empties the tables
        raw.execute("DELETE FROM vb_queue_generation")
    async with open_services(config) as services:
        assert await services.queues.generation() != first
