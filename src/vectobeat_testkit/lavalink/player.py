"""A fake node's players: the playback clock, one player's state, and its JSON shapes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["PlaybackClock", "PlayerSnapshot", "PlayerState", "PlayingTrack"]


class PlaybackClock:
    """Node time in milliseconds; ``speed`` > 1 makes tracks play faster than real time.

    ``source`` is a monotonic seconds source (injectable for tests of the clock itself).
    """

    def __init__(self, speed: float = 1.0, source: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._source = source
        self._origin = source()

    def now_ms(self) -> float:
        return (self._source() - self._origin) * 1000.0 * self.speed

    def source_at(self, node_ms: float) -> float:
        """The ``source`` reading (monotonic seconds) at which the node clock read ``node_ms``."""
        return self._origin + node_ms / 1000.0 / self.speed

    def real_seconds(self, node_ms: float) -> float:
        """How many real seconds ``node_ms`` of node time take."""
        return max(node_ms, 0.0) / 1000.0 / self.speed


@attrs.define
class PlayingTrack:
    """The track a player plays: its JSON (without position) and its length in ms."""

    json: dict[str, Any]
    length: int
    is_stream: bool


@attrs.frozen
class PlayerSnapshot:
    """What a test sees of one player (``node.players[guild_id]``)."""

    guild_id: int
    session_id: str
    track: dict[str, Any] | None
    position: int
    paused: bool
    volume: int
    filters: dict[str, Any]
    voice: dict[str, Any]
    end_time: int | None
    set_position: int
    """The position last given or frozen (a PATCH, a pause), in node ms ..."""
    set_at: float
    """... and the monotonic second it was set."""


@attrs.define
class PlayerState:
    """One guild's player on one session; positions are node-clock milliseconds."""

    guild_id: int
    session_id: str
    clock: PlaybackClock
    track: PlayingTrack | None = None
    paused: bool = False
    volume: int = 100
    filters: dict[str, Any] = attrs.Factory(dict)
    voice: dict[str, Any] = attrs.Factory(dict)
    end_time: int | None = None
    base_position: float = 0.0
    base_clock: float = 0.0

    @property
    def playing(self) -> bool:
        return self.track is not None and not self.paused

    @property
    def connected(self) -> bool:
        return bool(self.voice)

    def rate(self) -> float:
        """How many track ms play per node ms: the timescale filter's speed times its rate."""
        timescale = self.filters.get("timescale")
        if not isinstance(timescale, dict):
            return 1.0
        return float(timescale.get("speed", 1.0)) * float(timescale.get("rate", 1.0))

    def position(self) -> int:
        if self.track is None:
            return 0
        position = self.base_position
        if not self.paused:
            position += (self.clock.now_ms() - self.base_clock) * self.rate()
        return int(min(position, self.stop_at())) if not self.track.is_stream else int(position)

    def stop_at(self) -> float:
        """Where the current track ends: its length, or an earlier ``endTime``."""
        if self.track is None:
            return 0.0
        end = float(self.track.length)
        if self.end_time is not None:
            end = min(end, float(self.end_time))
        return end

    def remaining_ms(self) -> float | None:
        """Node ms until the track ends on its own (the timescale applied); None when paused,
        idle or a stream."""
        if self.track is None or self.paused or self.track.is_stream:
            return None
        return max(self.stop_at() - self.position(), 0.0) / self.rate()

    def rebase(self, position: float | None = None) -> None:
        """Freeze the current position (or set ``position``) at the clock's now."""
        self.base_position = float(self.position() if position is None else position)
        self.base_clock = self.clock.now_ms()

    def start(self, track: PlayingTrack, position: int, end_time: int | None) -> None:
        self.track = track
        self.end_time = end_time
        self.rebase(position)

    def stop(self) -> None:
        self.track = None
        self.end_time = None
        self.base_position = 0.0

    def set_paused(self, paused: bool) -> None:
        self.rebase()
        self.paused = paused

    def state_json(self) -> dict[str, Any]:
        return {
            "time": int(time.time() * 1000),
            "position": self.position(),
            "connected": self.connected,
            "ping": 0 if self.connected else -1,
        }

    def track_json(self) -> dict[str, Any] | None:
        if self.track is None:
            return None
        data = dict(self.track.json)
        data["info"] = {**data["info"], "position": self.position()}
        return data

    # Written by hand, not by jsonform: Lavalink's player object, not our format.
    def to_json(self) -> dict[str, Any]:
        """Lavalink v4's player object."""
        return {
            "guildId": str(self.guild_id),
            "track": self.track_json(),
            "volume": self.volume,
            "paused": self.paused,
            "state": self.state_json(),
            "voice": dict(self.voice)
            or {"token": "", "endpoint": "", "sessionId": "", "channelId": None},
            "filters": dict(self.filters),
        }

    def snapshot(self) -> PlayerSnapshot:
        return PlayerSnapshot(
            guild_id=self.guild_id,
            session_id=self.session_id,
            track=self.track_json(),
            position=self.position(),
            paused=self.paused,
            volume=self.volume,
            filters=dict(self.filters),
            voice=dict(self.voice),
            end_time=self.end_time,
            set_position=round(self.base_position),
            set_at=self.clock.source_at(self.base_clock),
        )
