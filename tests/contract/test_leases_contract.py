"""LeaseStore contract: claim only free/stale leases, fencing epochs, renew/release by holder only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from tests.redis_support import redis_namespace
from vectobeat_adapters.memory.leases import MemoryLeaseStore
from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_core.errors import InvalidInput, StaleVersion
from vectobeat_core.ids import ShardId
from vectobeat_core.ports import LeaseStore
from vectobeat_core.regions import Region
from vectobeat_core.shards import Lease, plan_renew

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0
S = ShardId(3)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LeaseStore]:
    if request.param == "memory":
        yield MemoryLeaseStore()
        return
    async with redis_namespace() as (conn, keys):
        yield RedisLeaseStore(conn, keys)


async def test_claim_a_free_shard(store: LeaseStore) -> None:
    lease = await store.claim(S, "bot-a", Region.EU, T0, 30)
    assert lease == Lease(S, "bot-a", 1, T0, Region.EU)
    assert await store.get(S) == lease
    assert await store.all() == [lease]
    assert await store.get(ShardId(4)) is None


async def test_a_fresh_lease_cannot_be_claimed(store: LeaseStore) -> None:
    held = await store.claim(S, "bot-a", Region.EU, T0, 30)
    assert await store.claim(S, "spare", Region.EU, T0 + 29.9, 30) is None
    assert await store.claim(S, "bot-a", Region.EU, T0 + 1, 30) is None
    assert await store.get(S) == held


async def test_a_stale_lease_is_taken_with_a_higher_epoch_and_fences_the_old_holder(
    store: LeaseStore,
) -> None:
    old = await store.claim(S, "bot-a", Region.US, T0, 30)
    assert old is not None
    new = await store.claim(S, "spare", Region.US, T0 + 30, 30)
    assert new == Lease(S, "spare", 2, T0 + 30, Region.US)
    with pytest.raises(StaleVersion) as info:
        await store.renew(old, T0 + 31)
    assert (info.value.expected, info.value.current) == (1, 2)
    assert not await store.release(old)
    assert await store.get(S) == new
    renewed = await store.renew(new, T0 + 40)
    assert renewed.heartbeat_at == T0 + 40
    assert renewed == plan_renew(new, "spare", 2, T0 + 40)


async def test_renew_never_moves_the_heartbeat_back(store: LeaseStore) -> None:
    lease = await store.claim(S, "bot-a", Region.EU, T0 + 10, 30)
    assert lease is not None
    assert (await store.renew(lease, T0)).heartbeat_at == T0 + 10


async def test_release_then_claim_keeps_epochs_growing(store: LeaseStore) -> None:
    first = await store.claim(S, "bot-a", Region.EU, T0, 30)
    assert first is not None
    assert await store.release(first)
    assert not await store.release(first)
    assert await store.get(S) is None
    second = await store.claim(S, "bot-b", Region.EU, T0 + 1, 30)
    assert second is not None
    assert second.epoch == 2
    with pytest.raises(StaleVersion):
        await store.renew(first, T0 + 2)
    again = await store.claim(S, "bot-a", Region.EU, T0 + 100, 30)
    assert again is not None
    assert again.epoch == 3


async def test_a_released_lease_cannot_be_renewed(store: LeaseStore) -> None:
    lease = await store.claim(S, "bot-a", Region.EU, T0, 30)
    assert lease is not None
    await store.release(lease)
    with pytest.raises(StaleVersion):
        await store.renew(lease, T0 + 1)


async def test_bad_arguments_are_refused(store: LeaseStore) -> None:
    with pytest.raises(InvalidInput):
        await store.claim(S, "bot-a", Region.EU, T0, 0)
    with pytest.raises(InvalidInput):
        await store.claim(S, " ", Region.EU, T0, 30)
    assert await store.all() == []


async def test_racing_spares_exactly_one_wins(store: LeaseStore) -> None:
    await store.claim(S, "dead", Region.EU, T0, 30)
    winners: list[Lease] = []

    async def spare(name: str) -> None:
        lease = await store.claim(S, name, Region.EU, T0 + 60, 30)
        if lease is not None:
            winners.append(lease)

    async with anyio.create_task_group() as tg:
        for number in range(20):
            tg.start_soon(spare, f"spare-{number}")
    assert len(winners) == 1
    assert winners[0].epoch == 2
    assert await store.get(S) == winners[0]


async def test_all_lists_every_shard_in_order(store: LeaseStore) -> None:
    for shard in (5, 1, 3):
        await store.claim(ShardId(shard), f"bot-{shard}", Region.APAC, T0, 30)
    assert [lease.shard_id for lease in await store.all()] == [1, 3, 5]
