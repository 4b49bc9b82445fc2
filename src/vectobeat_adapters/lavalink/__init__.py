"""Lavalink v4 adapter: the regional node pool (`LavalinkCluster`, the core's `Lavalink` port),
failover and the health checker.

See `cluster` for the pool the bot plays through and the table of its parts (`registry`,
`player_store`, `player_rest`, `placement`, `failover`, `recovery`, `health_watch`,
`node_events`, `reporter`, `commands`), `node` for one node's client, `checker` for the health
checker service (``vectobeat-ops nodes watch``).
"""

from __future__ import annotations

from vectobeat_adapters.lavalink.checker import HealthChecker
from vectobeat_adapters.lavalink.cluster import (
    DEFAULT_POLICY,
    EventCallback,
    FailoverCallback,
    LavalinkCluster,
)
from vectobeat_adapters.lavalink.model import (
    FailoverCounts,
    LavalinkEvent,
    LoadResult,
    NodeFailover,
    PlayerInfo,
    PlayerMoved,
    TrackEnd,
    TrackException,
    TrackStart,
    TrackStuck,
    WebSocketClosed,
)
from vectobeat_adapters.lavalink.node import Backoff, NodeRequestError

__all__ = [
    "DEFAULT_POLICY",
    "Backoff",
    "EventCallback",
    "FailoverCallback",
    "FailoverCounts",
    "HealthChecker",
    "LavalinkCluster",
    "LavalinkEvent",
    "LoadResult",
    "NodeFailover",
    "NodeRequestError",
    "PlayerInfo",
    "PlayerMoved",
    "TrackEnd",
    "TrackException",
    "TrackStart",
    "TrackStuck",
    "WebSocketClosed",
]
