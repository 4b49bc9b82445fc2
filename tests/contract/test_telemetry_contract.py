"""TelemetryCache contract: JSON documents by name, gone after their TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.redis_support import TtlHarness
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.redis.telemetry import RedisTelemetryCache
from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import TelemetryCache

pytestmark = pytest.mark.anyio


class Harness(TtlHarness[TelemetryCache]):
    async def wait_gone(self, name: str, ttl: float) -> bool:
        async def gone() -> bool:
            return await self.store.get(name) is None

        return await self.eventually(ttl, gone)


@pytest.fixture(params=["memory", "redis"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with Harness.open(request.param, MemoryTelemetryCache, RedisTelemetryCache) as opened:
        yield opened


DOC: JSON = {"guild": "123", "queue": [{"t": "Song ✓", "len": 180000}], "ratio": 0.5, "ok": True}


async def test_put_and_get(harness: Harness) -> None:
    await harness.store.put("queue:123", DOC, 60)
    assert await harness.store.get("queue:123") == DOC
    assert await harness.store.get("queue:456") is None
    await harness.store.put("queue:123", [1, 2], 60)
    assert await harness.store.get("queue:123") == [1, 2]


async def test_documents_expire(harness: Harness) -> None:
    await harness.store.put("short", DOC, 0.3)
    await harness.store.put("long", DOC, 60)
    assert await harness.wait_gone("short", 0.3)
    assert await harness.store.get("long") == DOC


async def test_bad_documents_and_ttls_are_refused(harness: Harness) -> None:
    with pytest.raises(InvalidInput):
        await harness.store.put("x", {"n": float("nan")}, 60)
    with pytest.raises(InvalidInput):
        await harness.store.put("x", DOC, 0)
    assert await harness.store.get("x") is None
