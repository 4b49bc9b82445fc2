"""The cluster's values, defined in the core (`vectobeat_core.lavalink`) and re-exported here."""

from __future__ import annotations

from vectobeat_core.lavalink import (
    EndReason,
    FailoverCounts,
    LavalinkEvent,
    LoadKind,
    LoadResult,
    NodeFailover,
    PlayerInfo,
    PlayerMoved,
    TrackEnd,
    TrackException,
    TrackStart,
    TrackStuck,
    WebSocketClosed,
    parse_event,
)

__all__ = [
    "EndReason",
    "FailoverCounts",
    "LavalinkEvent",
    "LoadKind",
    "LoadResult",
    "NodeFailover",
    "PlayerInfo",
    "PlayerMoved",
    "TrackEnd",
    "TrackException",
    "TrackStart",
    "TrackStuck",
    "WebSocketClosed",
    "parse_event",
]
