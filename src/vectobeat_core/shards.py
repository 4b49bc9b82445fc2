"""Shard leases: ownership, staleness, renewal with fencing, and hot-spare promotion.

A bot process owns a shard through a ``Lease`` (owner, epoch, heartbeat) kept in a shared store that
offers compare-and-set on the epoch. Claiming a free or stale lease writes ``epoch + 1``; a holder
renews only while the stored owner and epoch are still its own, so an old owner that wakes up after a
spare took over is fenced (``StaleVersion``) and must stop. ``LEASE_TRANSITIONS`` is the lease state
machine; the policies below consult it, and ``mermaid_lease_diagram()`` draws it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum

import attrs

from vectobeat_core.errors import InvalidInput, StaleVersion
from vectobeat_core.ids import ShardId
from vectobeat_core.jsonform import dump_method, json_form, load_method
from vectobeat_core.regions import Region

__all__ = [
    "LEASE_TRANSITIONS",
    "SURRENDER_SHARE",
    "Lease",
    "LeaseEvent",
    "LeaseState",
    "Promotion",
    "ShardStatus",
    "check_stale_after",
    "is_stale",
    "lease_state",
    "mermaid_lease_diagram",
    "must_surrender",
    "next_stale_at",
    "plan_claim",
    "plan_promotion",
    "plan_release",
    "plan_renew",
    "promotion_rank",
    "renewal_heartbeat",
    "shard_of",
    "shard_status",
]

SURRENDER_SHARE = 0.5
"""Share of ``stale_after`` a shard's gateway connection may be silent before its holder stops it."""


class LeaseState(StrEnum):
    FREE = "free"
    HELD = "held"
    STALE = "stale"
    FENCED = "fenced"


class LeaseEvent(StrEnum):
    CLAIM = "claim"
    RENEW = "renew"
    RELEASE = "release"
    EXPIRE = "expire"
    FENCE = "fence"


#: Allowed lease transitions; a missing pair is refused. FENCED is final for the fenced holder.
LEASE_TRANSITIONS: Mapping[tuple[LeaseState, LeaseEvent], LeaseState] = {
    (LeaseState.FREE, LeaseEvent.CLAIM): LeaseState.HELD,
    (LeaseState.STALE, LeaseEvent.CLAIM): LeaseState.HELD,
    (LeaseState.HELD, LeaseEvent.RENEW): LeaseState.HELD,
    (LeaseState.STALE, LeaseEvent.RENEW): LeaseState.HELD,
    (LeaseState.HELD, LeaseEvent.RELEASE): LeaseState.FREE,
    (LeaseState.STALE, LeaseEvent.RELEASE): LeaseState.FREE,
    (LeaseState.HELD, LeaseEvent.EXPIRE): LeaseState.STALE,
    (LeaseState.HELD, LeaseEvent.FENCE): LeaseState.FENCED,
    (LeaseState.STALE, LeaseEvent.FENCE): LeaseState.FENCED,
}


def _check_finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value):
        raise InvalidInput(f"{attribute.name} must be a finite number, got {value!r}")


def _check_epoch(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"lease epoch must be a whole number of at least 1, got {value!r}")


def _check_owner(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("lease owner must be a non-empty string")


def _check_shard(instance: object, attribute: attrs.Attribute[ShardId], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"shard id must be a whole number of at least 0, got {value!r}")


@json_form(what="Shard lease")
@attrs.frozen
class Lease:
    """Ownership of one shard by one process, valid while its heartbeat is fresh."""

    shard_id: ShardId = attrs.field(validator=_check_shard)
    owner: str = attrs.field(validator=_check_owner)
    epoch: int = attrs.field(validator=_check_epoch)
    heartbeat_at: float = attrs.field(validator=_check_finite)
    region: Region

    to_json = dump_method()
    from_json = load_method()
    """Read what ``to_json`` wrote; anything else raises ``InvalidInput`` naming the field."""


def check_stale_after(stale_after: float) -> None:
    """Refuse a staleness window that is not a positive number of seconds."""
    if not stale_after > 0:  # also refuses NaN
        raise InvalidInput(f"stale_after must be a positive number of seconds, got {stale_after!r}")


def is_stale(lease: Lease, now: float, stale_after: float) -> bool:
    """A lease is stale when its heartbeat is ``stale_after`` seconds old or older."""
    check_stale_after(stale_after)
    return now - lease.heartbeat_at >= stale_after


def lease_state(
    lease: Lease | None,
    now: float,
    stale_after: float,
    *,
    holder: str | None = None,
    epoch: int | None = None,
) -> LeaseState:
    """The state of the stored lease; given a holder and the epoch it believes in, as it sees it."""
    if lease is None:
        return LeaseState.FREE
    if holder is not None and (lease.owner != holder or lease.epoch != epoch):
        return LeaseState.FENCED
    return LeaseState.STALE if is_stale(lease, now, stale_after) else LeaseState.HELD


def plan_claim(
    lease: Lease | None,
    claimant: str,
    now: float,
    stale_after: float,
    *,
    shard_id: ShardId,
    region: Region,
    last_epoch: int = 0,
) -> Lease | None:
    """The lease to compare-and-set when ``claimant`` may take the shard, else ``None``.

    Free or stale shards are claimable with an epoch above both ``lease.epoch`` and ``last_epoch``
    (the highest epoch the store ever granted for the shard, kept across releases); a fresh lease
    is not (its holder renews). The store writes the result only if the stored lease is unchanged.
    """
    if lease is not None and lease.shard_id != shard_id:
        raise InvalidInput(f"lease is for shard {lease.shard_id}, not shard {shard_id}")
    state = lease_state(lease, now, stale_after)
    if (state, LeaseEvent.CLAIM) not in LEASE_TRANSITIONS:
        return None
    epoch = max(last_epoch, 0 if lease is None else lease.epoch) + 1
    return Lease(shard_id, claimant, epoch, now, region)


def plan_renew(lease: Lease | None, holder: str, epoch: int, now: float) -> Lease:
    """The renewed lease for its holder; ``StaleVersion`` when the holder has been fenced."""
    if lease is None:
        raise StaleVersion(f"the lease held by {holder}", expected=epoch, current=0)
    state = lease_state(lease, now, math.inf, holder=holder, epoch=epoch)
    if (state, LeaseEvent.RENEW) not in LEASE_TRANSITIONS:
        raise StaleVersion(f"shard {lease.shard_id} lease", expected=epoch, current=lease.epoch)
    return attrs.evolve(lease, heartbeat_at=max(now, lease.heartbeat_at))


def plan_release(lease: Lease | None, holder: str, epoch: int) -> bool:
    """Whether the holder may delete the stored lease: only while it is still its own (not fenced)."""
    if lease is None:
        return False
    state = lease_state(lease, 0.0, math.inf, holder=holder, epoch=epoch)
    return (state, LeaseEvent.RELEASE) in LEASE_TRANSITIONS


def renewal_heartbeat(now: float, alive_at: float | None) -> float:
    """The heartbeat a holder writes: when its shard's gateway connection was last known alive
    (``None``: alive now, e.g. still connecting), never later than ``now``. A stalled connection
    so stops refreshing its lease even while the process runs, and a spare takes it over."""
    return now if alive_at is None else min(now, alive_at)


def must_surrender(now: float, alive_at: float | None, stale_after: float) -> bool:
    """Whether the holder must stop its shard: silent for ``SURRENDER_SHARE`` of ``stale_after``,
    so its gateway session is closed well before a spare may claim the lease (at ``stale_after``)
    and the shard never has two sessions."""
    check_stale_after(stale_after)
    return alive_at is not None and now - alive_at >= stale_after * SURRENDER_SHARE


def promotion_rank(spare: str, shard_id: ShardId) -> int:
    """A stable pseudo-random rank; spares racing for stale shards prefer different ones."""
    digest = hashlib.blake2b(f"{spare}\x00{shard_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@attrs.frozen
class Promotion:
    """A spare taking over a stale shard; ``lease`` is what it compare-and-sets."""

    shard_id: ShardId
    from_owner: str
    to_owner: str
    new_epoch: int
    stale_for_seconds: float
    lease: Lease


def plan_promotion(
    leases: Sequence[Lease], spare: str, region: Region, now: float, stale_after: float
) -> Promotion | None:
    """Which stale shard of ``region`` the spare should take, or ``None`` when none is stale."""
    check_stale_after(stale_after)
    candidates = [
        lease
        for lease in leases
        if lease.region == region and lease.owner != spare and is_stale(lease, now, stale_after)
    ]
    if not candidates:
        return None
    chosen = min(
        candidates,
        key=lambda lease: (promotion_rank(spare, lease.shard_id), lease.shard_id, -lease.epoch),
    )
    new_lease = plan_claim(chosen, spare, now, stale_after, shard_id=chosen.shard_id, region=region)
    assert new_lease is not None  # a stale lease is always claimable
    return Promotion(
        shard_id=chosen.shard_id,
        from_owner=chosen.owner,
        to_owner=spare,
        new_epoch=new_lease.epoch,
        stale_for_seconds=now - chosen.heartbeat_at,
        lease=new_lease,
    )


def next_stale_at(
    leases: Sequence[Lease], spare: str, region: Region, stale_after: float
) -> float | None:
    """When the first lease of ``region`` another process holds goes stale if not renewed
    (``None``: there is none): a spare checks again then, not only at its regular interval."""
    check_stale_after(stale_after)
    times = [
        lease.heartbeat_at + stale_after
        for lease in leases
        if lease.region == region and lease.owner != spare
    ]
    return min(times, default=None)


def mermaid_lease_diagram() -> str:
    """A Mermaid ``stateDiagram-v2`` drawn from ``LEASE_TRANSITIONS`` (self-loops left out)."""
    lines = ["stateDiagram-v2", f"    [*] --> {LeaseState.FREE.value}"]
    lines += [
        f"    {source.value} --> {target.value}: {event.value}"
        for (source, event), target in LEASE_TRANSITIONS.items()
        if source is not target
    ]
    lines.append(f"    {LeaseState.FENCED.value} --> [*]")
    return "\n".join(lines) + "\n"


@attrs.frozen
class ShardStatus:
    """One shard as the status payload shows it."""

    shard_id: ShardId
    state: LeaseState
    owner: str | None
    epoch: int
    heartbeat_age_s: float | None
    latency_ms: float | None = None
    guilds: int = 0

    to_json = dump_method()


def shard_status(
    shard_id: ShardId,
    lease: Lease | None,
    now: float,
    stale_after: float,
    *,
    latency_ms: float | None = None,
    guilds: int = 0,
) -> ShardStatus:
    """Describe one shard from its stored lease (``None`` when nobody holds it)."""
    state = lease_state(lease, now, stale_after)
    if lease is None:
        return ShardStatus(shard_id, state, None, 0, None, latency_ms, guilds)
    age = max(0.0, now - lease.heartbeat_at)
    return ShardStatus(shard_id, state, lease.owner, lease.epoch, age, latency_ms, guilds)


def shard_of(guild_id: int | None, shard_count: int | None) -> ShardId | None:
    """The shard Discord routes a guild's events through, ``(guild_id >> 22) % shard_count``;
    ``None`` without a guild or a known shard count."""
    if guild_id is None or not shard_count or shard_count < 1:
        return None
    return ShardId((guild_id >> 22) % shard_count)
