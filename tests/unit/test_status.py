"""The unified health payload and readiness."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.routing import leases, regions, unique_node_views
from vectobeat_core.displacement import Displacement
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName, ShardId
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView
from vectobeat_core.shards import Lease, LeaseState, ShardStatus, shard_status
from vectobeat_core.status import (
    DISPLACED_LISTED,
    SyncState,
    build_status,
    overall_status,
    readiness,
)

NOW = 10_000.0
SYNC = SyncState(mode="pubsub", connected=True, last_sync_at=NOW - 2.5, applied_versions=7)


def node(name: str, status: NodeStatus = NodeStatus.UP) -> NodeView:
    return NodeView(
        NodeSpec(NodeName(name), Region.EU, "http://h:1", "secret-pw", secure=False), status
    )


def held(shard: int) -> ShardStatus:
    return shard_status(
        ShardId(shard), Lease(ShardId(shard), "bot-a", 1, NOW - 1, Region.EU), NOW, 10.0
    )


def test_healthy_payload() -> None:
    payload = build_status(
        now=NOW,
        started_at=NOW - 60,
        guilds=3,
        players=2,
        queue_tracks=40,
        shards=[held(1), held(0)],
        nodes=[node("b"), node("a")],
        regions={GuildId(1): Region.EU, GuildId(2): Region.EU, GuildId(3): Region.AUTO},
        settings_sync=SYNC,
    )
    assert payload["status"] == "ok"
    assert payload["ready"] is True
    assert payload["reasons"] == []
    assert payload["uptime_s"] == 60.0
    assert (payload["guilds"], payload["players"], payload["queue_tracks"]) == (3, 2, 40)
    assert payload["regions"] == {"auto": 1, "us": 0, "eu": 2, "apac": 0}
    shards = payload["shards"]
    assert isinstance(shards, dict)
    assert shards["by_state"] == {"free": 0, "held": 2, "stale": 0, "fenced": 0}
    doc: Any = json.loads(json.dumps(payload))
    assert [s["shard_id"] for s in doc["shards"]["items"]] == [0, 1]
    nodes = payload["nodes"]
    assert isinstance(nodes, dict)
    assert [n["name"] for n in doc["nodes"]["items"]] == ["a", "b"]
    assert payload["settings_sync"] == {
        "mode": "pubsub",
        "connected": True,
        "last_sync_at": NOW - 2.5,
        "last_sync_age_s": 2.5,
        "applied_versions": 7,
    }
    assert "secret-pw" not in json.dumps(payload)


def test_readiness_reasons() -> None:
    stale = shard_status(ShardId(4), Lease(ShardId(4), "bot-z", 3, NOW - 30, Region.EU), NOW, 10.0)
    free = shard_status(ShardId(5), None, NOW, 10.0)
    fenced = ShardStatus(ShardId(6), LeaseState.FENCED, "bot-a", 9, 1.0)
    ready, reasons = readiness(shards=[fenced, stale, free], nodes=[node("a", NodeStatus.DOWN)])
    assert not ready
    assert reasons == [
        "no Lavalink node is healthy",
        "shard 4 lease is stale (owner bot-z, heartbeat 30.0 s ago)",
        "shard 5 has no owner",
        "shard 6 lease was taken over (epoch 9)",
    ]
    assert readiness(shards=[], nodes=[]) == (False, ["no Lavalink node is configured"])
    assert readiness(shards=[held(0)], nodes=[node("a", NodeStatus.DEGRADED)]) == (True, [])


def test_overall_status() -> None:
    up = [node("a")]
    assert overall_status(shards=[], nodes=up, settings_sync=SYNC) == "ok"
    assert (
        overall_status(shards=[], nodes=[*up, node("b", NodeStatus.DOWN)], settings_sync=SYNC)
        == "degraded"
    )
    cut = SyncState(mode="longpoll", connected=False)
    assert overall_status(shards=[], nodes=up, settings_sync=cut) == "degraded"
    assert (
        overall_status(shards=[], nodes=up, settings_sync=SyncState(mode="off", connected=False))
        == "ok"
    )
    assert overall_status(shards=[], nodes=[], settings_sync=SYNC) == "down"


def test_bad_counts_and_times() -> None:
    common: dict[str, object] = {
        "started_at": 0.0,
        "guilds": 0,
        "players": 0,
        "queue_tracks": 0,
        "shards": [],
        "nodes": [],
        "regions": {},
        "settings_sync": SYNC,
    }
    with pytest.raises(InvalidInput, match="players"):
        build_status(now=NOW, **{**common, "players": -1})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="finite"):
        build_status(now=float("nan"), **common)  # type: ignore[arg-type]


@given(
    unique_node_views(max_size=6),
    st.lists(leases(), max_size=8, unique_by=lambda x: x.shard_id),
    st.dictionaries(st.integers(1, 10**6).map(GuildId), regions, max_size=20),
    st.booleans(),
)
def test_payload_properties(
    nodes: list[NodeView], leases_: list[Lease], assigned: dict[GuildId, Region], connected: bool
) -> None:
    shards = [shard_status(x.shard_id, x, 1000.0, 10.0) for x in leases_]
    sync = SyncState(mode="pubsub", connected=connected)
    payload = build_status(
        now=1000.0,
        started_at=0.0,
        guilds=len(assigned),
        players=0,
        queue_tracks=0,
        shards=shards,
        nodes=nodes,
        regions=assigned,
        settings_sync=sync,
    )
    assert json.loads(json.dumps(payload)) == payload
    ready, reasons = readiness(shards=shards, nodes=nodes)
    assert payload["ready"] is ready
    assert ready == (not reasons)
    assert (payload["status"] == "down") == (not ready)
    counts = payload["regions"]
    assert isinstance(counts, dict)
    assert sum(int(str(v)) for v in counts.values()) == len(assigned)


def test_guilds_outside_their_pinned_region_are_counted_and_the_first_listed_with_why() -> None:
    displaced = [
        Displacement(GuildId(g), Region.APAC, Region.EU, "eu-1")
        for g in range(DISPLACED_LISTED + 5, 0, -1)
    ]
    payload = build_status(
        now=NOW,
        started_at=NOW - 60,
        guilds=len(displaced),
        players=len(displaced),
        queue_tracks=0,
        shards=[held(0)],
        nodes=[node("a")],
        regions={d.guild_id: d.actual for d in displaced},
        settings_sync=SYNC,
        displaced=displaced,
    )
    shown = payload["displaced"]
    assert isinstance(shown, dict) and shown["count"] == DISPLACED_LISTED + 5
    guilds = shown["guilds"]
    assert isinstance(guilds, list) and len(guilds) == DISPLACED_LISTED
    assert guilds[0] == {
        "guild_id": "1",
        "requested_region": "apac",
        "playing_region": "eu",
        "node": "eu-1",
        "reason": "apac has no healthy Lavalink node; it returns at a track change once apac "
        "is healthy",
    }
