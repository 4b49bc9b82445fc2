"""Shard redundancy: keepers hold and renew leases, hot spares take over stale shards, fencing.

Run against the in-memory store and real Redis. Lease time comes from a manual clock; the loops
sleep for a few milliseconds of real time, and every wait polls a condition under a timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import pytest
from tests.redis_support import ManualClock, redis_namespace

from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.leases import MemoryLeaseStore
from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_adapters.shard_supervisor import HotSpare, ShardLeaseKeeper
from vectobeat_core.audit import AuditKind
from vectobeat_core.errors import ConfigError, OutcomeUnknown, StorageUnavailable
from vectobeat_core.ids import ShardId
from vectobeat_core.ports import LeaseStore
from vectobeat_core.regions import Region
from vectobeat_core.shards import Lease

pytestmark = pytest.mark.anyio

STALE = 30.0
TICK = 0.005  # real seconds between loop rounds
PATIENCE = 10.0  # real seconds before a wait fails
K_SHARDS = [ShardId(0), ShardId(1), ShardId(2)]


class Harness:
    """A ``LeaseStore`` wrapper: stall one owner's renewals, take the store down, record calls."""

    def __init__(self, inner: LeaseStore) -> None:
        self.inner = inner
        self.down = False
        self.stalled: dict[str, anyio.Event] = {}
        self.renewals: Counter[str] = Counter()
        self.listings = 0

    def stall(self, owner: str) -> None:
        self.stalled[owner] = anyio.Event()

    def wake(self, owner: str) -> None:
        self.stalled.pop(owner).set()

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailable("Redis at test: the store is down (simulated outage).")

    async def claim(
        self, shard: ShardId, owner: str, region: Region, now: float, stale_after: float
    ) -> Lease | None:
        self._check()
        return await self.inner.claim(shard, owner, region, now, stale_after)

    async def renew(self, lease: Lease, now: float) -> Lease:
        gate = self.stalled.get(lease.owner)
        if gate is not None:
            await gate.wait()  # the process hangs here, then wakes with its old view
        self._check()
        self.renewals[lease.owner] += 1
        return await self.inner.renew(lease, now)

    async def release(self, lease: Lease) -> bool:
        self._check()
        return await self.inner.release(lease)

    async def get(self, shard: ShardId) -> Lease | None:
        self._check()
        return await self.inner.get(shard)

    async def all(self) -> list[Lease]:
        self._check()
        self.listings += 1
        return await self.inner.all()

    async def ping(self) -> None:
        self._check()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        yield Harness(MemoryLeaseStore())
        return
    async with redis_namespace() as (conn, keys):
        yield Harness(RedisLeaseStore(conn, keys))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``PATIENCE`` real seconds."""
    try:
        with anyio.fail_after(PATIENCE):
            while not await check():  # noqa: ASYNC110 (polls another process's state: no event)
                await anyio.sleep(TICK)
    except TimeoutError:
        pytest.fail(f"timed out waiting for: {what}")


class Recorder:
    """Async callbacks that remember their calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    async def __call__(self, *args: int) -> None:
        self.calls.append(args)


def keeper(
    store: Harness,
    owner: str,
    shards: list[ShardId],
    clock: ManualClock,
    region: Region = Region.EU,
) -> tuple[ShardLeaseKeeper, Recorder]:
    fenced = Recorder()
    made = ShardLeaseKeeper(store, owner, region, shards, STALE, TICK, clock, fenced)
    return made, fenced


def spare(
    store: Harness, name: str, clock: ManualClock, audit: MemoryAuditLog
) -> tuple[HotSpare, Recorder]:
    promoted = Recorder()
    return HotSpare(store, name, Region.EU, STALE, TICK, clock, audit, promoted), promoted


async def heartbeats_at(store: Harness, shards: list[ShardId], now: float) -> bool:
    leases = [await store.inner.get(shard) for shard in shards]
    return all(lease is not None and lease.heartbeat_at == now for lease in leases)


async def advance_with_renewals(
    store: Harness, clock: ManualClock, shards: list[ShardId], seconds: float, step: float = 10
) -> None:
    """Move the clock in steps below ``STALE``, waiting each time until ``shards`` were renewed."""
    moved = 0.0
    while moved < seconds:
        clock.advance(step)
        moved += step
        await eventually(
            lambda: heartbeats_at(store, shards, clock.now()), f"renewals at +{moved}s"
        )


async def test_a_keeper_claims_its_shards_and_renews_them(store: Harness) -> None:
    clock = ManualClock()
    bot, fenced = keeper(store, "bot-a", K_SHARDS, clock)
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        held = {s: (lease.owner, lease.epoch) for s, lease in bot.held.items()}
        assert held == dict.fromkeys(K_SHARDS, ("bot-a", 1))
        await advance_with_renewals(store, clock, K_SHARDS, 45)
        tg.cancel_scope.cancel()
    assert fenced.calls == []
    assert not bot.fenced


async def test_stalled_keeper_is_replaced_once_per_shard_and_fenced_when_it_wakes(
    store: Harness,
) -> None:
    clock = ManualClock()
    audit = MemoryAuditLog()
    stalled, fenced = keeper(store, "bot-a", K_SHARDS, clock)
    healthy, _ = keeper(store, "bot-b", [ShardId(3)], clock)
    elsewhere, _ = keeper(store, "bot-us", [ShardId(4)], clock, region=Region.US)
    spare_a, promoted_a = spare(store, "spare-a", clock, audit)
    spare_b, promoted_b = spare(store, "spare-b", clock, audit)
    async with anyio.create_task_group() as tg:
        for service in (stalled, healthy, elsewhere, spare_a, spare_b):
            await tg.start(service.run)
        store.stall("bot-a")
        store.stall("bot-us")
        await advance_with_renewals(store, clock, [ShardId(3)], STALE)

        async def all_promoted() -> bool:
            return spare_a.promotions_total + spare_b.promotions_total >= len(K_SHARDS)

        await eventually(all_promoted, "the spares to take over shards 0-2")
        promoted = sorted(promoted_a.calls + promoted_b.calls)
        assert promoted == [(0, 2), (1, 2), (2, 2)]  # each shard once, with a higher epoch
        for shard in K_SHARDS:
            lease = await store.inner.get(shard)
            assert lease is not None
            assert (lease.owner in {"spare-a", "spare-b"}, lease.epoch) == (True, 2)
        # The healthy lease and the other region's stale lease are left alone.
        assert await store.inner.get(ShardId(3)) == Lease(
            ShardId(3), "bot-b", 1, clock.now(), Region.EU
        )
        us_lease = await store.inner.get(ShardId(4))
        assert us_lease is not None
        assert (us_lease.owner, us_lease.epoch) == ("bot-us", 1)

        events = await audit.recent(None, kinds=[AuditKind.SHARD_FAILOVER])
        assert sorted(int(str(e.data["shard_id"])) for e in events) == [0, 1, 2]
        for event in events:
            assert event.data["previous_owner"] == "bot-a"
            assert event.data["epoch"] == 2
            assert event.actor == event.data["new_owner"]

        # The old owner wakes up: every renew is refused, it reports each shard once and stops.
        store.wake("bot-a")

        async def all_fenced() -> bool:
            return sorted(fenced.calls) == [(0,), (1,), (2,)]

        await eventually(all_fenced, "the old keeper to be fenced from shards 0-2")
        assert stalled.fenced == frozenset(K_SHARDS)
        assert not stalled.held
        renewals_after_fence = store.renewals["bot-a"]
        # Time goes on: the spares renew what they took (no second failover), bot-a stays quiet.
        await advance_with_renewals(store, clock, [*K_SHARDS, ShardId(3)], 2 * STALE)
        assert store.renewals["bot-a"] == renewals_after_fence
        assert spare_a.promotions_total + spare_b.promotions_total == len(K_SHARDS)
        assert sorted(promoted_a.calls + promoted_b.calls) == promoted
        tg.cancel_scope.cancel()


async def test_a_healthy_lease_is_never_taken(store: Harness) -> None:
    clock = ManualClock()
    audit = MemoryAuditLog()
    bot, _ = keeper(store, "bot-a", K_SHARDS, clock)
    spare_a, promoted_a = spare(store, "spare-a", clock, audit)
    spare_b, promoted_b = spare(store, "spare-b", clock, audit)
    async with anyio.create_task_group() as tg:
        for service in (bot, spare_a, spare_b):
            await tg.start(service.run)
        for _ in range(12):  # two minutes of lease time, the spares checking all along
            listings = store.listings
            await advance_with_renewals(store, clock, K_SHARDS, 5, step=5)

            async def spares_looked(seen: int = listings) -> bool:
                return store.listings >= seen + 4

            await eventually(spares_looked, "the spares to check the leases again")
        tg.cancel_scope.cancel()
    assert promoted_a.calls == promoted_b.calls == []
    assert spare_a.promotions_total == spare_b.promotions_total == 0
    assert [(lease.owner, lease.epoch) for lease in await store.inner.all()] == [("bot-a", 1)] * 3
    assert await audit.recent(None) == []


async def test_racing_spares_promote_each_stale_shard_exactly_once(store: Harness) -> None:
    clock = ManualClock()
    audit = MemoryAuditLog()
    shards = [ShardId(n) for n in range(24)]
    for shard in shards:
        assert await store.claim(shard, "dead-bot", Region.EU, clock.now(), STALE) is not None
    clock.advance(STALE)
    racers = [spare(store, f"spare-{n}", clock, audit) for n in range(3)]
    won: dict[str, list[Lease]] = {}

    async def race(name: str, hot: HotSpare) -> None:
        won[name] = await hot.check_once()

    async with anyio.create_task_group() as tg:
        for n, (hot, _) in enumerate(racers):
            tg.start_soon(race, f"spare-{n}", hot)
    taken = sorted(lease.shard_id for leases in won.values() for lease in leases)
    assert taken == shards
    assert sum(hot.promotions_total for hot, _ in racers) == len(shards)
    for name, leases in won.items():
        for lease in leases:
            assert await store.inner.get(lease.shard_id) == lease
            assert (lease.owner, lease.epoch) == (name, 2)
    promoted = sorted(call for _, recorder in racers for call in recorder.calls)
    assert promoted == [(shard, 2) for shard in shards]
    assert len(await audit.recent(None, kinds=[AuditKind.SHARD_FAILOVER])) == len(shards)


async def test_a_store_outage_mid_run_is_survived(store: Harness) -> None:
    clock = ManualClock()
    audit = MemoryAuditLog()
    bot, fenced = keeper(store, "bot-a", K_SHARDS, clock)
    hot, promoted = spare(store, "spare-a", clock, audit)
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        await tg.start(hot.run)
        store.down = True
        clock.advance(10)

        async def both_saw_errors() -> bool:
            return bot.store_errors_total >= 3 and hot.store_errors_total >= 3

        await eventually(both_saw_errors, "the keeper and the spare to report store errors")
        assert isinstance(bot.last_error, StorageUnavailable)
        assert isinstance(hot.last_error, StorageUnavailable)
        store.down = False
        await eventually(lambda: heartbeats_at(store, K_SHARDS, clock.now()), "renewals again")
        assert promoted.calls == [] and fenced.calls == []
        # Both loops are still alive: the keeper stalls, the spare takes over, the keeper is fenced.
        store.stall("bot-a")
        clock.advance(STALE)

        async def taken_over() -> bool:
            return hot.promotions_total == len(K_SHARDS)

        await eventually(taken_over, "the spare to take over after the outage")
        store.wake("bot-a")

        async def fenced_all() -> bool:
            return len(fenced.calls) == len(K_SHARDS)

        await eventually(fenced_all, "the keeper to be fenced")
        tg.cancel_scope.cancel()
    assert sorted(promoted.calls) == [(shard, 2) for shard in K_SHARDS]


async def test_a_spare_that_fails_to_start_a_shard_lets_another_spare_take_it(
    store: Harness,
) -> None:
    clock = ManualClock()
    audit = MemoryAuditLog()
    assert await store.claim(ShardId(7), "dead-bot", Region.EU, clock.now(), STALE) is not None
    clock.advance(STALE)

    async def cannot_start(shard: ShardId, epoch: int) -> None:
        raise RuntimeError(f"no gateway for shard {shard} (epoch {epoch})")

    broken = HotSpare(store, "spare-broken", Region.EU, STALE, TICK, clock, audit, cannot_start)
    good, promoted = spare(store, "spare-good", clock, audit)
    async with anyio.create_task_group() as tg:
        await tg.start(broken.run)

        async def broken_tried() -> bool:
            return broken.promotions_total == 1 and not broken.held

        await eventually(broken_tried, "the broken spare to try and give up the shard")
        clock.advance(STALE)
        await tg.start(good.run)

        async def good_took_it() -> bool:
            return promoted.calls == [(7, 3)]

        await eventually(good_took_it, "the good spare to take the shard with epoch 3")
        tg.cancel_scope.cancel()
    assert broken.promotions_total == 1


async def test_a_keeper_adopts_its_own_lease_and_claims_a_busy_shard_once_stale(
    store: Harness,
) -> None:
    clock = ManualClock()
    own = await store.claim(ShardId(0), "bot-a", Region.EU, clock.now(), STALE)  # reply "lost"
    other = await store.claim(ShardId(1), "bot-old", Region.EU, clock.now(), STALE)
    assert own is not None and other is not None
    claimed = Recorder()

    async def nothing(shard: ShardId) -> None:
        return None

    bot = ShardLeaseKeeper(
        store, "bot-a", Region.EU, K_SHARDS[:2], STALE, TICK, clock, nothing, on_claimed=claimed
    )
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        assert bot.held == {ShardId(0): own}  # shard 1 is busy: bot-old holds it fresh
        clock.advance(STALE)

        async def took_it() -> bool:
            return claimed.calls == [(1, 2)]

        await eventually(took_it, "the keeper to claim shard 1 once stale")
        await eventually(lambda: heartbeats_at(store, K_SHARDS[:2], clock.now()), "renewals")
        tg.cancel_scope.cancel()
    assert sorted(bot.held) == K_SHARDS[:2]


class BrokenAudit(MemoryAuditLog):
    async def append(self, event: object) -> None:
        raise StorageUnavailable("the audit database is down (simulated).")


async def test_a_promotion_stands_when_the_audit_log_is_down(store: Harness) -> None:
    clock = ManualClock()
    assert await store.claim(ShardId(5), "dead-bot", Region.EU, clock.now(), STALE) is not None
    clock.advance(STALE)
    promoted = Recorder()
    hot = HotSpare(
        store, "spare-a", Region.EU, STALE, TICK, clock, BrokenAudit(), promoted, backoff_base=0.001
    )
    won = await hot.check_once()
    assert [(lease.shard_id, lease.epoch) for lease in won] == [(5, 2)]
    assert promoted.calls == [(5, 2)]
    assert hot.store_errors_total == 3  # every attempt reported
    assert isinstance(hot.last_error, StorageUnavailable)


class UnconfirmedAudit(MemoryAuditLog):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def append(self, event: object) -> None:
        self.calls += 1
        raise OutcomeUnknown("The change was not confirmed (simulated).")


async def test_an_audit_append_that_may_have_been_applied_is_not_repeated(store: Harness) -> None:
    clock = ManualClock()
    assert await store.claim(ShardId(6), "dead-bot", Region.EU, clock.now(), STALE) is not None
    clock.advance(STALE)
    audit, promoted = UnconfirmedAudit(), Recorder()
    hot = HotSpare(
        store, "spare-a", Region.EU, STALE, TICK, clock, audit, promoted, backoff_base=0.001
    )
    won = await hot.check_once()
    assert [(lease.shard_id, lease.epoch) for lease in won] == [(6, 2)]
    assert promoted.calls == [(6, 2)]
    assert (audit.calls, hot.store_errors_total) == (1, 1)


async def test_a_capped_spare_takes_at_most_max_shards(store: Harness) -> None:
    clock = ManualClock()
    for shard in (1, 2, 3):
        assert await store.claim(ShardId(shard), "dead-bot", Region.EU, clock.now(), STALE)
    clock.advance(STALE)
    promoted = Recorder()
    hot = HotSpare(store, "spare-a", Region.EU, STALE, TICK, clock, MemoryAuditLog(), promoted,
                   max_shards=2)  # fmt: skip
    assert len(await hot.check_once()) == 2
    assert await hot.check_once() == []  # full: the third stale shard waits for another spare
    owners = sorted(lease.owner for lease in await store.inner.all())
    assert owners == ["dead-bot", "spare-a", "spare-a"] and len(promoted.calls) == 2


async def test_timings_are_checked() -> None:
    clock = ManualClock()
    leases = Harness(MemoryLeaseStore())

    async def nothing(shard: ShardId) -> None:
        return None

    with pytest.raises(ConfigError, match="renew_every"):
        ShardLeaseKeeper(leases, "bot", Region.EU, [ShardId(0)], 10, 10, clock, nothing)
    with pytest.raises(ConfigError, match="stale_after"):
        ShardLeaseKeeper(leases, "bot", Region.EU, [ShardId(0)], 0, 1, clock, nothing)
    with pytest.raises(ConfigError, match="check_every"):
        HotSpare(leases, "s", Region.EU, 10, 0, clock, MemoryAuditLog(), Recorder())


class Connections:
    """When each shard's gateway connection was last alive (``None``: alive now)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.stalled_at: dict[ShardId, float] = {}

    def stall(self, shard: ShardId) -> None:
        self.stalled_at[shard] = self.clock.now()

    def alive_at(self, shard: ShardId) -> float | None:
        return self.stalled_at.get(shard)


async def test_a_stalled_connection_is_surrendered_before_a_spare_takes_its_shard(
    store: Harness,
) -> None:
    clock = ManualClock()
    links = Connections(clock)
    stopped = Recorder()
    bot = ShardLeaseKeeper(store, "bot-a", Region.EU, K_SHARDS, STALE, TICK, clock, stopped,
                           on_claimed=Recorder(), liveness=links.alive_at)  # fmt: skip
    hot, promoted = spare(store, "spare-a", clock, MemoryAuditLog())
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        await tg.start(hot.run)
        links.stall(ShardId(1))
        stalled_at = clock.now()
        # the other shards renew with the clock; the stalled one keeps its last sign of life
        await advance_with_renewals(store, clock, [ShardId(0), ShardId(2)], STALE / 2)

        async def surrendered() -> bool:
            return stopped.calls == [(1,)]

        await eventually(surrendered, "the keeper to stop the stalled shard")
        assert bot.surrendered == {ShardId(1)} and ShardId(1) not in bot.held
        lease = await store.inner.get(ShardId(1))
        assert lease is not None and (lease.owner, lease.heartbeat_at) == ("bot-a", stalled_at)
        assert promoted.calls == []  # not stale yet: the shard was stopped first
        await advance_with_renewals(store, clock, [ShardId(0), ShardId(2)], STALE / 2)

        async def taken() -> bool:
            return promoted.calls == [(1, 2)]

        await eventually(taken, "the spare to take the stalled shard")
        # the keeper leaves it to the spare, which renews it; nothing else moved
        await advance_with_renewals(store, clock, K_SHARDS, 3 * STALE)
        owners = {lease.shard_id: lease.owner for lease in await store.inner.all()}
        assert owners == {0: "bot-a", 1: "spare-a", 2: "bot-a"}
        assert stopped.calls == [(1,)] and not bot.fenced
        tg.cancel_scope.cancel()


async def test_without_a_spare_the_keeper_reclaims_its_surrendered_shard_later(
    store: Harness,
) -> None:
    clock = ManualClock()
    links = Connections(clock)
    claimed = Recorder()
    bot = ShardLeaseKeeper(store, "bot-a", Region.EU, [ShardId(0)], STALE, TICK, clock,
                           Recorder(), on_claimed=claimed, liveness=links.alive_at)  # fmt: skip
    async with anyio.create_task_group() as tg:
        await tg.start(bot.run)
        links.stall(ShardId(0))
        clock.advance(STALE / 2)

        async def gave_up() -> bool:
            return bot.surrendered == {ShardId(0)}

        await eventually(gave_up, "the keeper to surrender its stalled shard")
        clock.advance(STALE)
        await anyio.sleep(10 * TICK)
        assert claimed.calls == []  # a spare gets RECLAIM_AFTER_STALE x stale_after first
        links.stalled_at.clear()  # the new connection works
        clock.advance(STALE)

        async def reclaimed() -> bool:
            return claimed.calls == [(0, 2)]

        await eventually(reclaimed, "the keeper to re-claim its shard")
        assert bot.surrendered == frozenset() and ShardId(0) in bot.held
        tg.cancel_scope.cancel()
