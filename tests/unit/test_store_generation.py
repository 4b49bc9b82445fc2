"""GenerationWatch: a changed store generation rewrites every guild; an outage does not."""

from __future__ import annotations

import pytest

from tests.redis_support import ManualClock
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.store_generation import GenerationWatch
from vectobeat_core.errors import StorageUnavailable

pytestmark = pytest.mark.anyio


class FlippingStore(MemoryQueueStore):
    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.token: str | None = "a"

    async def generation(self) -> str:
        if self.token is None:
            raise StorageUnavailable("Redis at test: down for the test.")
        return self.token


async def test_a_new_generation_calls_on_lost_once_and_an_outage_never() -> None:
    store = FlippingStore()
    calls: list[int] = []

    def on_lost() -> int:
        calls.append(7)
        return 7

    watch = GenerationWatch(store, on_lost)
    assert await watch.check() is False  # the first reading is the baseline
    assert await watch.check() is False
    store.token = None
    assert await watch.check() is False
    store.token = "b"  # back, but empty: a new generation
    assert await watch.check() is True
    assert await watch.check() is False
    assert calls == [7] and watch.resyncs == 1


async def test_the_memory_store_keeps_its_generation() -> None:
    store = MemoryQueueStore(ManualClock())
    assert await store.generation() == await store.generation()
