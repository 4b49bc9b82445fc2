"""Shard leases: claims, renewals with fencing, promotions, and a lease-protocol simulation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.strategies.routing import leases, pinned_regions
from vectobeat_core.errors import InvalidInput, StaleVersion
from vectobeat_core.ids import ShardId
from vectobeat_core.regions import Region
from vectobeat_core.shards import (
    LEASE_TRANSITIONS,
    SURRENDER_SHARE,
    Lease,
    LeaseEvent,
    LeaseState,
    Promotion,
    is_stale,
    lease_state,
    mermaid_lease_diagram,
    must_surrender,
    next_stale_at,
    plan_claim,
    plan_promotion,
    plan_release,
    plan_renew,
    promotion_rank,
    renewal_heartbeat,
    shard_status,
)

STALE_AFTER = 10.0
S0, S1, S2 = ShardId(0), ShardId(1), ShardId(2)


def lease(shard: ShardId = S0, owner: str = "bot-a", epoch: int = 1, at: float = 0.0) -> Lease:
    return Lease(shard, owner, epoch, at, Region.EU)


def test_claim_free_fresh_and_stale() -> None:
    first = plan_claim(None, "bot-a", 5.0, STALE_AFTER, shard_id=S0, region=Region.EU)
    assert first == Lease(S0, "bot-a", 1, 5.0, Region.EU)
    assert plan_claim(first, "spare-1", 14.9, STALE_AFTER, shard_id=S0, region=Region.EU) is None
    taken = plan_claim(first, "spare-1", 15.0, STALE_AFTER, shard_id=S0, region=Region.EU)
    assert taken == Lease(S0, "spare-1", 2, 15.0, Region.EU)
    with pytest.raises(InvalidInput, match="shard 0, not shard 1"):
        plan_claim(first, "x", 99.0, STALE_AFTER, shard_id=S1, region=Region.EU)


def test_renew_and_fencing() -> None:
    held = lease(at=0.0)
    assert plan_renew(held, "bot-a", 1, 3.0).heartbeat_at == 3.0
    assert (
        plan_renew(held, "bot-a", 1, 30.0).heartbeat_at == 30.0
    )  # stale but unclaimed: still ours
    assert plan_renew(lease(at=8.0), "bot-a", 1, 3.0).heartbeat_at == 8.0  # never moves back
    with pytest.raises(StaleVersion) as fenced:
        plan_renew(lease(owner="spare-1", epoch=2), "bot-a", 1, 3.0)
    assert (fenced.value.expected, fenced.value.current) == (1, 2)
    with pytest.raises(StaleVersion):
        plan_renew(lease(epoch=2), "bot-a", 1, 3.0)
    with pytest.raises(StaleVersion):
        plan_renew(None, "bot-a", 1, 3.0)


def test_claim_after_release_keeps_epochs_rising() -> None:
    again = plan_claim(None, "bot-b", 1.0, STALE_AFTER, shard_id=S0, region=Region.EU, last_epoch=7)
    assert again is not None
    assert again.epoch == 8


def test_release_only_by_the_current_holder() -> None:
    assert plan_release(lease(epoch=3), "bot-a", 3)
    assert plan_release(lease(epoch=3, at=-100.0), "bot-a", 3)  # stale but still ours
    assert not plan_release(lease(epoch=4), "bot-a", 3)
    assert not plan_release(lease(owner="spare-1", epoch=3), "bot-a", 3)
    assert not plan_release(None, "bot-a", 3)


def test_lease_states() -> None:
    assert lease_state(None, 0, STALE_AFTER) is LeaseState.FREE
    assert lease_state(lease(), 9.9, STALE_AFTER) is LeaseState.HELD
    assert lease_state(lease(), 10.0, STALE_AFTER) is LeaseState.STALE
    assert lease_state(lease(), 1.0, STALE_AFTER, holder="bot-b", epoch=1) is LeaseState.FENCED
    assert lease_state(lease(), 1.0, STALE_AFTER, holder="bot-a", epoch=1) is LeaseState.HELD
    assert is_stale(lease(), 10.0, STALE_AFTER)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InvalidInput, match="stale_after"):
            is_stale(lease(), 1.0, bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shard_id": -1},
        {"shard_id": True},
        {"owner": " "},
        {"epoch": 0},
        {"heartbeat_at": float("inf")},
    ],
)
def test_lease_validation(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "shard_id": 0,
        "owner": "a",
        "epoch": 1,
        "heartbeat_at": 0.0,
        "region": Region.US,
    }
    with pytest.raises(InvalidInput):
        Lease(**{**fields, **kwargs})  # type: ignore[arg-type]


@given(leases())
def test_lease_json_round_trip(value: Lease) -> None:
    assert Lease.from_json(json.loads(json.dumps(value.to_json()))) == value


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"shard_id": "1"}, "shard_id"),
        ({"owner": 3}, "owner"),
        ({"epoch": 1.5}, "epoch"),
        ({"heartbeat_at": None}, "heartbeat_at"),
        ({"region": "mars"}, "region"),
    ],
)
def test_lease_json_garbage_names_the_field(patch: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        Lease.from_json({**lease().to_json(), **patch})
    with pytest.raises(InvalidInput, match="object"):
        Lease.from_json("x")


def test_promotion_takes_a_stale_shard_of_its_region_only() -> None:
    leases_ = [
        lease(S0, "bot-a", 3, at=0.0),
        lease(S1, "bot-a", 1, at=95.0),
        Lease(S2, "bot-us", 1, 0.0, Region.US),
    ]
    promotion = plan_promotion(leases_, "spare-1", Region.EU, 100.0, STALE_AFTER)
    assert promotion == Promotion(
        shard_id=S0,
        from_owner="bot-a",
        to_owner="spare-1",
        new_epoch=4,
        stale_for_seconds=100.0,
        lease=Lease(S0, "spare-1", 4, 100.0, Region.EU),
    )
    assert plan_promotion(leases_, "spare-1", Region.APAC, 100.0, STALE_AFTER) is None
    assert (
        plan_promotion([lease(S0, "spare-1", at=0.0)], "spare-1", Region.EU, 100.0, STALE_AFTER)
        is None
    )


def test_concurrent_spares_spread_over_stale_shards() -> None:
    stale = [lease(ShardId(i), "bot-a", 1, at=0.0) for i in range(16)]
    picks = {
        promotion.shard_id
        for spare in (f"spare-{i}" for i in range(8))
        if (promotion := plan_promotion(stale, spare, Region.EU, 100.0, STALE_AFTER)) is not None
    }
    assert len(picks) >= 4


@given(
    st.lists(leases(region=Region.EU), max_size=10, unique_by=lambda x: x.shard_id),
    st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True),
    st.floats(0, 2000),
)
def test_promotion_properties(leases_: list[Lease], spare: str, now: float) -> None:
    promotion = plan_promotion(leases_, spare, Region.EU, now, STALE_AFTER)
    stale = [x for x in leases_ if is_stale(x, now, STALE_AFTER) and x.owner != spare]
    if not stale:
        assert promotion is None
        return
    assert promotion is not None
    chosen = next(x for x in stale if x.shard_id == promotion.shard_id)
    assert promotion.new_epoch == chosen.epoch + 1
    assert promotion.lease.owner == spare
    assert promotion.stale_for_seconds >= STALE_AFTER
    assert promotion == plan_promotion(list(reversed(leases_)), spare, Region.EU, now, STALE_AFTER)
    assert promotion_rank(spare, promotion.shard_id) == min(
        promotion_rank(spare, x.shard_id) for x in stale
    )


def test_transition_table_and_diagram() -> None:
    assert (LeaseState.FENCED, LeaseEvent.RENEW) not in LEASE_TRANSITIONS
    assert (LeaseState.HELD, LeaseEvent.CLAIM) not in LEASE_TRANSITIONS
    diagram = mermaid_lease_diagram()
    for (source, event), target in LEASE_TRANSITIONS.items():
        if source is not target:
            assert f"{source} --> {target}: {event}" in diagram
    assert "held --> held" not in diagram
    assert diagram.endswith("fenced --> [*]\n")


def test_shard_status() -> None:
    free = shard_status(S1, None, 50.0, STALE_AFTER, guilds=3)
    assert free.to_json() == {
        "shard_id": 1,
        "state": "free",
        "owner": None,
        "epoch": 0,
        "heartbeat_age_s": None,
        "latency_ms": None,
        "guilds": 3,
    }
    stale = shard_status(S0, lease(at=20.0), 50.0, STALE_AFTER, latency_ms=42.0)
    assert (stale.state, stale.owner, stale.heartbeat_age_s, stale.latency_ms) == (
        LeaseState.STALE,
        "bot-a",
        30.0,
        42.0,
    )


PROCESSES = ("bot-a", "spare-1", "spare-2")
SHARDS = (S0, S1)


class LeaseProtocol(RuleBasedStateMachine):
    """Processes read the shared store, plan, and compare-and-set later, in any interleaving.

    Checked: epochs in the store only increase; an epoch of a shard is granted to one owner only; so
    no two processes ever believe they hold a shard at the same epoch, and at most one passes the fence.
    """

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.store: dict[ShardId, Lease] = {}
        self.last_epoch: dict[ShardId, int] = {}  # the store's counter, kept across releases
        self.pending: dict[str, Lease] = {}
        self.held: dict[str, dict[ShardId, int]] = {p: {} for p in PROCESSES}
        self.granted: dict[tuple[ShardId, int], str] = {}
        self.epochs_seen: dict[ShardId, int] = {}

    @rule(dt=st.floats(0.0, 15.0))
    def tick(self, dt: float) -> None:
        self.now += dt

    @rule(proc=st.sampled_from(PROCESSES), shard=st.sampled_from(SHARDS))
    def read_and_plan_claim(self, proc: str, shard: ShardId) -> None:
        planned = plan_claim(
            self.store.get(shard),
            proc,
            self.now,
            STALE_AFTER,
            shard_id=shard,
            region=Region.EU,
            last_epoch=self.last_epoch.get(shard, 0),
        )
        if planned is not None:
            self.pending[proc] = planned

    @rule(proc=st.sampled_from(PROCESSES), region=pinned_regions)
    def read_and_plan_promotion(self, proc: str, region: Region) -> None:
        promotion = plan_promotion(list(self.store.values()), proc, region, self.now, STALE_AFTER)
        if promotion is not None:
            self.pending[proc] = promotion.lease

    @rule(proc=st.sampled_from(PROCESSES))
    def commit(self, proc: str) -> None:
        """The store's atomic claim: succeeds only if no epoch was granted since the read."""
        if proc not in self.pending:
            return
        planned = self.pending.pop(proc)
        if self.last_epoch.get(planned.shard_id, 0) != planned.epoch - 1:
            return
        self.store[planned.shard_id] = planned
        self.last_epoch[planned.shard_id] = planned.epoch
        assert self.granted.setdefault((planned.shard_id, planned.epoch), proc) == proc
        self.held[proc][planned.shard_id] = planned.epoch

    @rule(proc=st.sampled_from(PROCESSES), shard=st.sampled_from(SHARDS))
    def claim_without_interleaving(self, proc: str, shard: ShardId) -> None:
        """Liveness: a free or stale shard is always claimable when nobody races."""
        current = self.store.get(shard)
        planned = plan_claim(
            current,
            proc,
            self.now,
            STALE_AFTER,
            shard_id=shard,
            region=Region.EU,
            last_epoch=self.last_epoch.get(shard, 0),
        )
        if current is not None and not is_stale(current, self.now, STALE_AFTER):
            assert planned is None
            return
        assert planned is not None
        self.pending[proc] = planned
        self.commit(proc)
        assert self.store[shard] == planned

    @rule(proc=st.sampled_from(PROCESSES), shard=st.sampled_from(SHARDS))
    def release(self, proc: str, shard: ShardId) -> None:
        epoch = self.held[proc].pop(shard, None)
        if epoch is not None and plan_release(self.store.get(shard), proc, epoch):
            assert (self.store[shard].owner, self.store[shard].epoch) == (proc, epoch)
            del self.store[shard]

    @rule(proc=st.sampled_from(PROCESSES), shard=st.sampled_from(SHARDS))
    def renew(self, proc: str, shard: ShardId) -> None:
        epoch = self.held[proc].get(shard)
        if epoch is None:
            return
        current = self.store.get(shard)
        try:
            renewed = plan_renew(current, proc, epoch, self.now)
        except StaleVersion:
            del self.held[proc][shard]  # fenced: the process stops this shard
            return
        assert current is not None
        assert (renewed.owner, renewed.epoch) == (proc, epoch)  # only the current holder renews
        self.store[shard] = renewed

    @invariant()
    def epochs_only_increase(self) -> None:
        for shard, stored in self.store.items():
            assert stored.epoch >= self.epochs_seen.get(shard, 0)
            assert stored.epoch == self.last_epoch[shard]
            self.epochs_seen[shard] = stored.epoch

    @invariant()
    def one_writer_per_epoch(self) -> None:
        for shard in SHARDS:
            beliefs = [held[shard] for held in self.held.values() if shard in held]
            assert len(beliefs) == len(set(beliefs))
            stored = self.store.get(shard)
            writers = [
                proc
                for proc, held in self.held.items()
                if stored is not None and held.get(shard) == stored.epoch and stored.owner == proc
            ]
            assert len(writers) <= 1


LeaseProtocol.TestCase.settings = settings(max_examples=200, stateful_step_count=40)
TestLeaseProtocol = LeaseProtocol.TestCase


_times = st.floats(min_value=0, max_value=1e9, allow_nan=False)
_stale = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)


@given(now=_times, silent=st.floats(min_value=0, max_value=1e5), stale=_stale)
def test_a_silent_connection_is_surrendered_before_its_lease_goes_stale(
    now: float, silent: float, stale: float
) -> None:
    alive_at = now - silent
    heartbeat = renewal_heartbeat(now, alive_at)
    assert heartbeat == min(now, alive_at)
    surrendered = must_surrender(now, alive_at, stale)
    assert surrendered == (now - alive_at >= stale * SURRENDER_SHARE)
    if not surrendered:  # still renewed: its lease is fresh (a spare may not take it)
        lease = Lease(ShardId(0), "bot", 1, heartbeat, Region.EU)
        assert not is_stale(lease, now, stale)


def test_a_connection_alive_now_is_never_surrendered() -> None:
    assert renewal_heartbeat(100.0, None) == 100.0
    assert not must_surrender(100.0, None, 1.0)
    assert renewal_heartbeat(100.0, 150.0) == 100.0  # never a heartbeat from the future
    with pytest.raises(InvalidInput):
        must_surrender(1.0, 0.0, 0.0)


def test_a_spare_looks_again_when_the_first_other_lease_would_go_stale() -> None:
    held = [
        Lease(S0, "bot-a", 1, 100.0, Region.EU),
        Lease(S1, "bot-b", 1, 90.0, Region.EU),
        Lease(S2, "spare", 2, 50.0, Region.EU),  # its own: renewed by itself
        Lease(ShardId(3), "bot-us", 1, 10.0, Region.US),  # another region's spares take it
    ]
    assert next_stale_at(held, "spare", Region.EU, STALE_AFTER) == 90.0 + STALE_AFTER
    assert next_stale_at(held[2:3], "spare", Region.EU, STALE_AFTER) is None
    assert next_stale_at([], "spare", Region.EU, STALE_AFTER) is None
