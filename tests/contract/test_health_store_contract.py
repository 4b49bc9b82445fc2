"""HealthStore contract: node health records round-trip, expire after their TTL, list by node."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.redis_support import TtlHarness
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.redis.health_store import RedisHealthStore
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import HealthStore

pytestmark = pytest.mark.anyio


class Harness(TtlHarness[HealthStore]):
    async def wait_gone(self, node: NodeName, ttl: float) -> bool:
        async def gone() -> bool:
            return await self.store.get(node) is None

        return await self.eventually(ttl, gone)


@pytest.fixture(params=["memory", "redis"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with Harness.open(request.param, MemoryHealthStore, RedisHealthStore) as opened:
        yield opened


def health(node: str, status: NodeStatus = NodeStatus.UP) -> NodeHealth:
    return NodeHealth(
        node=NodeName(node),
        status=status,
        consecutive_ok=3,
        last_latency_ms=12.5,
        last_check_at=1_700_000_010.25,
        since=1_700_000_000.0,
    )


async def test_put_get_all(harness: Harness) -> None:
    store = harness.store
    for node in ("eu-2", "eu-1", "us-1"):
        await store.put(health(node), 60)
    await store.put(health("eu-1", NodeStatus.DOWN), 60)
    assert await store.get(NodeName("eu-1")) == health("eu-1", NodeStatus.DOWN)
    assert await store.get(NodeName("nope")) is None
    assert [h.node for h in await store.all()] == ["eu-1", "eu-2", "us-1"]


async def test_records_expire(harness: Harness) -> None:
    await harness.store.put(health("eu-1"), 0.3)
    await harness.store.put(health("eu-2"), 60)
    assert await harness.wait_gone(NodeName("eu-1"), 0.3)
    assert [h.node for h in await harness.store.all()] == ["eu-2"]


async def test_refresh_renews_the_ttl(harness: Harness) -> None:
    await harness.store.put(health("eu-1"), 0.3)
    await harness.store.put(health("eu-1"), 60)
    await harness.let_pass(0.5)
    assert await harness.store.get(NodeName("eu-1")) is not None
