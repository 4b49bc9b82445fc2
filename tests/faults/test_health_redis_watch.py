"""A `DependencyWatch` over real Redis behind a fault proxy: calls are refused at once while Redis
is cut or blackholed, the state says so with the time it changed, and it comes back by itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
import pytest

from tests.conftest import service_url
from vectobeat_adapters.dependency_watch import DependencyWatch
from vectobeat_adapters.redis import RedisKeys, RedisSettings, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.services import SystemClock
from vectobeat_core.dependencies import DependencyState
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@asynccontextmanager
async def watched_redis(
    proxy: FaultProxy, url: str
) -> AsyncIterator[tuple[DependencyWatch, RedisQueueStore, list[float]]]:
    """Redis through ``proxy``, opened without requiring it to answer, and its running watch."""
    db = urlsplit(url).path or "/0"
    recovered: list[float] = []
    settings = RedisSettings(connect_timeout=0.5, command_timeout=1.0, retries=1)
    async with open_redis(f"redis://127.0.0.1:{proxy.port}{db}", settings, check=False) as conn:
        watch = DependencyWatch(
            "redis", conn.probe, SystemClock(), required=True, interval=0.2,
            probe_timeout=1.0, backoff_base=0.05, backoff_cap=0.3,
        )  # fmt: skip
        conn.gate = watch

        async def back() -> None:
            recovered.append(time.time())

        watch.on_recovered(back)
        async with anyio.create_task_group() as tg:
            await tg.start(watch.run)
            yield watch, RedisQueueStore(conn, RedisKeys()), recovered
            tg.cancel_scope.cancel()


async def wait_state(watch: DependencyWatch, state: DependencyState) -> None:
    with anyio.fail_after(15):
        await watch.wait_until(state)


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_watch_follows_redis_down_and_back(fault: str) -> None:
    url = service_url("redis")
    port = urlsplit(url).port or 6379
    async with FaultProxy(port) as proxy, watched_redis(proxy, url) as (watch, store, back):
        assert watch.status.state is DependencyState.UP and len(back) == 1
        await store.load(GuildId(424242))  # answers
        up_since = watch.status.since
        getattr(proxy, fault)()
        await wait_state(watch, DependencyState.DOWN)
        down = watch.status
        assert down.since is not None and up_since is not None and down.since > up_since
        assert down.detail
        # refused by the gate (its own message), without trying a dead socket
        with pytest.raises(StorageUnavailable, match=r"^redis is unavailable \(.*background\.$"):
            await store.load(GuildId(424242))
        proxy.heal()
        await wait_state(watch, DependencyState.UP)
        assert len(back) == 2  # the recovery listener ran
        await store.load(GuildId(424242))
        assert watch.status.changes == down.changes + 1


async def test_redis_down_at_open_starts_down_and_connects_later() -> None:
    url = service_url("redis")
    port = urlsplit(url).port or 6379
    async with FaultProxy(port) as proxy:
        proxy.cut()
        async with watched_redis(proxy, url) as (watch, store, back):
            assert watch.status.state is DependencyState.DOWN and back == []
            with pytest.raises(StorageUnavailable):
                await store.load(GuildId(424242))
            proxy.heal()
            await wait_state(watch, DependencyState.UP)
            assert len(back) == 1
            await store.load(GuildId(424242))
