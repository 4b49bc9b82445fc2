"""Hypothesis strategies for nodes, node stats, player placements, health events and shard leases."""

from __future__ import annotations

from hypothesis import strategies as st

from vectobeat_core.health import NodeStatus, ProbeResult, WsEvent
from vectobeat_core.ids import GuildId, NodeName, ShardId
from vectobeat_core.regions import PINNED_REGIONS, Region
from vectobeat_core.routing import NodeSpec, NodeStats, NodeView, PlayerPlacement
from vectobeat_core.shards import Lease

__all__ = [
    "health_inputs",
    "lavalink_stats_payloads",
    "leases",
    "node_names",
    "node_stats",
    "node_views",
    "pinned_regions",
    "placements",
    "regions",
    "times",
    "unique_node_views",
]

regions = st.sampled_from(list(Region))
pinned_regions = st.sampled_from(PINNED_REGIONS)
node_names = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True).map(NodeName)
times = st.floats(min_value=0, max_value=2e9, allow_nan=False, allow_infinity=False)
_counts = st.integers(min_value=0, max_value=10_000)
_loads = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def lavalink_stats_payloads(draw: st.DrawFn) -> dict[str, object]:
    """A valid Lavalink v4 ``stats`` payload (REST shape; ``frameStats`` may be null)."""
    frames = draw(
        st.none()
        | st.integers(0, 3000).flatmap(
            lambda sent: st.fixed_dictionaries(
                {  # one minute holds 3000 frame slots: sent + nulled fit in it
                    "sent": st.just(sent),
                    "nulled": st.integers(0, 3000 - sent),
                    "deficit": st.integers(-3000, 3000),
                }
            )
        )
    )
    players = draw(_counts)
    return {
        "players": players,
        "playingPlayers": draw(st.integers(0, players)),
        "uptime": draw(st.integers(0, 2**53)),
        "memory": {
            k: draw(st.integers(0, 2**40)) for k in ("free", "used", "allocated", "reservable")
        },
        "cpu": {
            "cores": draw(st.integers(1, 256)),
            "systemLoad": draw(_loads),
            "lavalinkLoad": draw(_loads),
        },
        "frameStats": frames,
    }


node_stats = lavalink_stats_payloads().map(NodeStats.from_lavalink)


@st.composite
def node_views(
    draw: st.DrawFn,
    *,
    name: NodeName | None = None,
    region: Region | None = None,
    status: NodeStatus | None = None,
) -> NodeView:
    spec = NodeSpec(
        name=name if name is not None else draw(node_names),
        region=region if region is not None else draw(pinned_regions),
        uri="http://127.0.0.1:2333",
        password="youshallnotpass",
        secure=False,
    )
    return NodeView(
        spec=spec,
        status=status if status is not None else draw(st.sampled_from(list(NodeStatus))),
        stats=draw(st.none() | node_stats),
        latency_ms=draw(st.none() | st.floats(0, 5000)),
    )


def unique_node_views(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[list[NodeView]]:
    """Node views with distinct names."""
    return st.lists(
        node_views(), min_size=min_size, max_size=max_size, unique_by=lambda v: v.spec.name
    )


@st.composite
def placements(
    draw: st.DrawFn, *, node: NodeName | None = None, now: float = 1_000_000.0
) -> PlayerPlacement:
    length = draw(st.none() | st.integers(0, 3_600_000))
    position = draw(st.integers(0, length if length is not None else 3_600_000))
    return PlayerPlacement(
        guild_id=GuildId(draw(st.integers(1, 2**63 - 1))),
        node=node if node is not None else draw(node_names),
        preferred_region=draw(regions),
        position_ms=position,
        position_read_at=now - draw(st.floats(0, 30)),
        paused=draw(st.booleans()),
        track_length_ms=length,
    )


health_inputs: st.SearchStrategy[ProbeResult | WsEvent] = st.one_of(
    st.builds(ProbeResult, ok=st.just(True), latency_ms=st.none() | st.floats(0, 3000)),
    st.builds(ProbeResult, ok=st.just(False), error=st.just("timeout")),
    st.builds(WsEvent, open=st.booleans()),
)


@st.composite
def leases(draw: st.DrawFn, *, region: Region | None = None) -> Lease:
    return Lease(
        shard_id=ShardId(draw(st.integers(0, 63))),
        owner=draw(st.sampled_from(["bot-a", "bot-b", "bot-c", "spare-1", "spare-2"])),
        epoch=draw(st.integers(1, 1000)),
        heartbeat_at=draw(st.floats(0, 1000)),
        region=region if region is not None else draw(pinned_regions),
    )
