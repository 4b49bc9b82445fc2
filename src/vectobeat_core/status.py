"""The unified health payload (``/status``) and the readiness verdict (``/readyz``).

``build_status`` turns counts, shard statuses, node views, dependency states and the settings-sync
state into one JSON-safe document; ``readiness`` says whether the process should receive traffic
and, if not, why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs

from vectobeat_core.dependencies import DependencyState, DependencyStatus, dependency_problems
from vectobeat_core.displacement import Displacement, displaced_summary
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeView
from vectobeat_core.shards import LeaseState, ShardStatus

__all__ = [
    "DISPLACED_LISTED",
    "OverallStatus",
    "SyncMode",
    "SyncState",
    "build_status",
    "overall_status",
    "readiness",
]

OverallStatus = Literal["ok", "degraded", "down"]
DISPLACED_LISTED = 20
"""How many guilds playing outside their pinned region ``/status`` lists (all are counted)."""
SyncMode = Literal["pubsub", "longpoll", "off"]


@attrs.frozen
class SyncState:
    """How settings reach this process: the channel, whether it is connected, what was applied."""

    mode: SyncMode
    connected: bool
    last_sync_at: float | None = None
    applied_versions: int = 0

    # Written by hand, not by jsonform: a view at ``now`` (with the age), never read back.
    def to_json(self, now: float) -> dict[str, JSON]:
        age = None if self.last_sync_at is None else round(max(0.0, now - self.last_sync_at), 3)
        return {
            "mode": self.mode,
            "connected": self.connected,
            "last_sync_at": self.last_sync_at,
            "last_sync_age_s": age,
            "applied_versions": self.applied_versions,
        }


def _shard_problems(shards: Sequence[ShardStatus]) -> list[str]:
    problems: list[str] = []
    for shard in sorted(shards, key=lambda s: s.shard_id):
        if shard.state is LeaseState.FREE:
            problems.append(f"shard {shard.shard_id} has no owner")
        elif shard.state is LeaseState.STALE:
            problems.append(
                f"shard {shard.shard_id} lease is stale "
                f"(owner {shard.owner}, heartbeat {shard.heartbeat_age_s or 0.0:.1f} s ago)"
            )
        elif shard.state is LeaseState.FENCED:
            problems.append(f"shard {shard.shard_id} lease was taken over (epoch {shard.epoch})")
    return problems


def readiness(
    *,
    shards: Sequence[ShardStatus],
    nodes: Sequence[NodeView],
    dependencies: Sequence[DependencyStatus] = (),
) -> tuple[bool, list[str]]:
    """Ready when every required dependency is usable, some Lavalink node is routable and every
    given shard is held; else the reasons."""
    reasons: list[str] = dependency_problems(dependencies)
    if not nodes:
        reasons.append("no Lavalink node is configured")
    elif not any(n.routable for n in nodes):
        reasons.append("no Lavalink node is healthy")
    reasons += _shard_problems(shards)
    return not reasons, reasons


def overall_status(
    *,
    shards: Sequence[ShardStatus],
    nodes: Sequence[NodeView],
    settings_sync: SyncState,
    dependencies: Sequence[DependencyStatus] = (),
) -> OverallStatus:
    """``down`` when not ready; ``degraded`` when a node or a configured dependency is not up or
    settings sync is cut off."""
    ready, _ = readiness(shards=shards, nodes=nodes, dependencies=dependencies)
    if not ready:
        return "down"
    if any(n.status is not NodeStatus.UP for n in nodes):
        return "degraded"
    if any(
        d.state not in (DependencyState.UP, DependencyState.NOT_CONFIGURED) for d in dependencies
    ):
        return "degraded"
    if settings_sync.mode != "off" and not settings_sync.connected:
        return "degraded"
    return "ok"


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"status field {name!r} must be a whole number of at least 0")
    return value


def build_status(
    *,
    now: float,
    started_at: float,
    guilds: int,
    players: int,
    queue_tracks: int,
    shards: Sequence[ShardStatus],
    nodes: Sequence[NodeView],
    regions: Mapping[GuildId, Region],
    settings_sync: SyncState,
    dependencies: Sequence[DependencyStatus] = (),
    displaced: Sequence[Displacement] = (),
) -> dict[str, JSON]:
    """The unified health payload: counts, shard and node health, assigned regions, the guilds
    playing outside their pinned region with the reason (a count and the first
    `DISPLACED_LISTED`), settings sync, and each dependency's state since when."""
    if not (math.isfinite(now) and math.isfinite(started_at)):
        raise InvalidInput("status times must be finite numbers")
    names = [d.name for d in dependencies]
    if len(set(names)) != len(names):
        raise InvalidInput("each dependency may appear only once in the status")
    ready, reasons = readiness(shards=shards, nodes=nodes, dependencies=dependencies)
    shard_counts: dict[str, JSON] = {
        state.value: sum(1 for s in shards if s.state is state) for state in LeaseState
    }
    node_counts: dict[str, JSON] = {
        status.value: sum(1 for n in nodes if n.status is status) for status in NodeStatus
    }
    assigned = list(regions.values())
    region_counts: dict[str, JSON] = {region.value: assigned.count(region) for region in Region}
    return {
        "status": overall_status(
            shards=shards, nodes=nodes, settings_sync=settings_sync, dependencies=dependencies
        ),
        "ready": ready,
        "reasons": [*reasons],
        "generated_at": now,
        "uptime_s": round(max(0.0, now - started_at), 3),
        "guilds": _count(guilds, "guilds"),
        "players": _count(players, "players"),
        "queue_tracks": _count(queue_tracks, "queue_tracks"),
        "shards": {
            "total": len(shards),
            "by_state": shard_counts,
            "items": [s.to_json() for s in sorted(shards, key=lambda s: s.shard_id)],
        },
        "nodes": {
            "total": len(nodes),
            "by_status": node_counts,
            "items": [n.to_json() for n in sorted(nodes, key=lambda n: n.spec.name)],
        },
        "regions": region_counts,
        "displaced": displaced_summary(displaced, DISPLACED_LISTED),
        "settings_sync": settings_sync.to_json(now),
        "dependencies": {
            d.name: d.to_json(now) for d in sorted(dependencies, key=lambda d: d.name)
        },
    }
