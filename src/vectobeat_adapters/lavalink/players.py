"""What the cluster remembers of each guild's player, enough to rebuild it on any node.

Positions are kept with the clock time they were read (``read_at``) and extrapolated with the
core's `extrapolate_position`; a player is rebuilt with one PATCH carrying all of its state.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from vectobeat_adapters.lavalink.model import PlayerInfo
from vectobeat_adapters.slim_lock import SlimLock
from vectobeat_core.errors import InvalidTrack
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink_fields import amount, flag, real
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import PlayerPlacement, extrapolate_position, keep_target_position
from vectobeat_core.tracks import Track

__all__ = ["PlayerRecord", "VoiceState"]


@attrs.frozen(repr=False)
class VoiceState:
    """Discord's voice data for Lavalink; the token never shows in repr."""

    session_id: str
    token: str
    endpoint: str
    channel_id: ChannelId

    def __repr__(self) -> str:
        return f"VoiceState(channel_id={self.channel_id}, endpoint={self.endpoint!r})"

    def to_lavalink(self) -> dict[str, JSON]:
        return {
            "token": self.token,
            "endpoint": self.endpoint,
            "sessionId": self.session_id,
            "channelId": str(self.channel_id),
        }


def _voice_of(data: object) -> VoiceState | None:
    """A Lavalink player's ``voice`` object, when complete."""
    if not isinstance(data, Mapping):
        return None
    fields = [data.get(key) for key in ("sessionId", "token", "endpoint", "channelId")]
    if not all(isinstance(value, str) and value for value in fields):
        return None
    session_id, token, endpoint, channel = (str(value) for value in fields)
    if not (channel.isascii() and channel.isdigit()):
        return None
    return VoiceState(session_id, token, endpoint, ChannelId(int(channel)))


@attrs.define(eq=False)
class PlayerRecord:
    """One guild's player: where it runs, what it plays, and the rest of its state."""

    guild_id: GuildId
    decision: RegionDecision
    node: NodeName
    track: Track | None = None
    position_ms: int = 0
    read_at: float = 0.0
    paused: bool = False
    volume: int = 100
    filters: dict[str, JSON] = attrs.Factory(dict)
    end_ms: int | None = None
    voice: VoiceState | None = None
    created_on: NodeName | None = None
    created_session: str | None = None
    """The node session the player was created in: a node that restarted without resuming has
    a new session and no longer holds the player (it must be rebuilt, not patched)."""
    restoring: bool = False
    stranded: bool = False
    settled_wall_ms: float = 0.0
    target_at: float | None = None
    """When we last told the node a position (a move, a seek); see `keep_target_position`."""
    lock: SlimLock = attrs.Factory(SlimLock)

    @classmethod
    def adopted(
        cls,
        guild_id: GuildId,
        *,
        node: NodeName,
        region: Region,
        session_id: str,
        player: Mapping[str, Any],
        now: float,
    ) -> PlayerRecord:
        """A player found on a session this process resumed (it was ours before a restart);
        its region decision is the node's until the bot applies the guild's own."""
        try:
            track = None if player.get("track") is None else Track.from_lavalink(player["track"])
        except InvalidTrack:
            track = None
        record = cls(
            guild_id,
            RegionDecision(region, region, False, "as_requested", "kept after a restart"),
            node,
            track=track,
            read_at=now,
            paused=flag(player.get("paused"), False),
            volume=_volume(player.get("volume")),
            filters=dict(player["filters"]) if isinstance(player.get("filters"), Mapping) else {},
            voice=_voice_of(player.get("voice")),
            created_on=node,
            created_session=session_id,
        )
        record.note_state(player.get("state"), now)
        return record

    def length_ms(self) -> int | None:
        """Where the current track stops on its own (``None``: a stream or nothing playing)."""
        if self.track is None or self.track.is_stream:
            return None
        if self.end_ms is not None:
            return min(self.track.length, self.end_ms)
        return self.track.length

    def position_now(self, now: float) -> int:
        if self.track is None:
            return 0
        return extrapolate_position(
            self.position_ms, self.read_at, now, self.paused, self.length_ms()
        )

    def rebase(self, position_ms: int, now: float) -> None:
        self.position_ms = position_ms
        self.read_at = now

    def aim(self, position_ms: int, now: float) -> None:
        """We told the node to play at ``position_ms``: trust it until the node agrees."""
        self.rebase(position_ms, now)
        self.target_at = now

    def placement(self, now: float, node_region: Region) -> PlayerPlacement:
        """For the core's plans; an ``auto`` guild prefers the region it already plays in."""
        preferred = self.decision.effective
        if preferred is Region.AUTO:
            preferred = node_region
        return PlayerPlacement(
            guild_id=self.guild_id,
            node=self.node,
            preferred_region=preferred,
            position_ms=self.position_ms if self.track is not None else 0,
            position_read_at=self.read_at,
            paused=self.paused,
            track_length_ms=self.length_ms(),
        )

    def held_by(self, node: NodeName, session_id: str | None) -> bool:
        """Whether ``node``'s current session holds this player (a PATCH would not create it)."""
        return (
            self.created_on == node
            and session_id is not None
            and (self.created_session == session_id)
        )

    def full_body(self, now: float, *, fresh: bool, was_paused: bool = False) -> dict[str, JSON]:
        """One PATCH that rebuilds the whole player: track at the position now, and the rest.

        Says only what the player needs: a ``fresh`` player (a node or session that does not
        hold it yet) starts unpaused at volume 100 without filters, so those defaults are left
        out (a server mishandles an explicit ``paused: false``); on a player the node holds,
        ``paused`` is sent when it is or was paused, since a node keeps a paused player paused.
        """
        body: dict[str, JSON] = {}
        if self.paused or (was_paused and not fresh):
            body["paused"] = self.paused
        if self.volume != 100 or not fresh:
            body["volume"] = self.volume
        if self.filters or not fresh:
            body["filters"] = dict(self.filters)
        if fresh and self.voice is not None:
            body["voice"] = self.voice.to_lavalink()
        if self.track is not None:
            body["track"] = {"encoded": self.track.encoded}
            body["position"] = self.position_now(now)
            if self.end_ms is not None:
                body["endTime"] = self.end_ms
        return body

    def note_state(self, state: object, now: float) -> None:
        """A ``playerUpdate`` state (or a player's ``state``): the position read now."""
        if self.track is None or not isinstance(state, Mapping):
            return
        position = amount(state.get("position"), -1)
        if position < 0:
            return
        if self.target_at is not None:
            expected = self.position_now(now)
            if keep_target_position(expected, position, now - self.target_at):
                return
            self.target_at = None  # the node agrees (or had long enough): believe it again
        self.rebase(position, now)

    def note_player(self, player: Any, read_at: float) -> None:
        """A player object answered by ``PATCH``: take its position, read at ``read_at``.

        ``playerUpdate`` ops the node generated before this answer arrived are stale (a node
        may send one mid-update, before the new track starts); `fresh` rejects them by their
        ``time`` (node wall-clock milliseconds).
        """
        self.settled_wall_ms = time.time() * 1000.0
        if isinstance(player, Mapping):
            self.note_state(player.get("state"), read_at)

    def fresh(self, state: object) -> bool:
        """Whether a ``playerUpdate`` state was generated after the last PATCH answer."""
        if not isinstance(state, Mapping):
            return False
        sent = real(state.get("time"))
        return sent is None or sent >= self.settled_wall_ms

    def info(self, now: float, region: Region) -> PlayerInfo:
        return PlayerInfo(
            guild_id=self.guild_id,
            node=self.node,
            region=region,
            preferred_region=self.decision.effective,
            track=self.track,
            position_ms=self.position_now(now),
            paused=self.paused,
            volume=self.volume,
            filters=dict(self.filters),
            voice_channel_id=None if self.voice is None else self.voice.channel_id,
        )


def _volume(value: object) -> int:
    """A player's volume as the node reports it (0 to 1000, also sent as text); else 100."""
    volume = amount(value, 100)
    return volume if volume <= 1000 else 100
