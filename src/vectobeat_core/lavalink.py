"""What the `Lavalink` port hands out: load results, player info, events, failover counters.

Lavalink's JSON is converted here by named constructors; garbage raises ``InvalidInput`` naming
what was wrong, so a node that answers nonsense is reported, not crashed on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

import attrs

from vectobeat_core import lavalink_fields as fields
from vectobeat_core.errors import InvalidInput, NotEnabled, VectoBeatError
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.jsonform import dump_method
from vectobeat_core.jsontypes import JSON
from vectobeat_core.playback import format_duration
from vectobeat_core.regions import Region
from vectobeat_core.tracks import Track

__all__ = [
    "EndReason",
    "FailoverCounts",
    "LavalinkEvent",
    "LoadKind",
    "LoadResult",
    "Lyrics",
    "LyricsLine",
    "NoLyricsPlugin",
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

LoadKind: TypeAlias = Literal["track", "playlist", "search", "empty", "error"]
EndReason: TypeAlias = Literal["finished", "loadFailed", "stopped", "replaced", "cleanup"]
_END_REASONS: tuple[EndReason, ...] = ("finished", "loadFailed", "stopped", "replaced", "cleanup")


_LOAD_KINDS = fields.names(("track", "playlist", "search", "empty", "error"))
_SEVERITIES = fields.names(("common", "suspicious", "fault"))


def _severity(value: object) -> str:
    """Lavalink's exception severity; one it does not document reads ``fault`` (cause unknown)."""
    return fields.named(value, _SEVERITIES, "fault")


def _tracks(items: object, where: str) -> tuple[Track, ...]:
    """The usable tracks of a list; one bad entry is skipped, a list of only bad ones refused."""
    if not isinstance(items, list):
        raise InvalidInput(f"Lavalink loadtracks: {where} must be a list of tracks")
    tracks: list[Track] = []
    problem: VectoBeatError | None = None
    for item in items:
        try:
            tracks.append(Track.from_lavalink(item))
        except VectoBeatError as exc:
            problem = exc
    if problem is not None and not tracks:
        raise problem
    return tuple(tracks)


@attrs.frozen
class LoadResult:
    """What ``/v4/loadtracks`` found: one track, a playlist, search hits, nothing, or an error."""

    kind: LoadKind
    tracks: tuple[Track, ...] = ()
    playlist_name: str | None = None
    selected: int | None = None
    error: str | None = None
    severity: str | None = None

    @classmethod
    def from_lavalink(cls, payload: object) -> LoadResult:
        """From Lavalink v4's ``{loadType, data}``; anything else raises ``InvalidInput``."""
        if not isinstance(payload, Mapping):
            raise InvalidInput("Lavalink loadtracks answer must be a JSON object")
        raw_kind = payload.get("loadType")
        kind = fields.named(raw_kind, _LOAD_KINDS, None)
        data = payload.get("data")
        try:
            if kind == "track":
                return cls("track", (Track.from_lavalink(data),))
            if kind == "search":
                return cls("search", _tracks(data, "'data'"))
            if kind == "playlist":
                if not isinstance(data, Mapping):
                    raise InvalidInput("Lavalink loadtracks: playlist 'data' is missing")
                raw_info = data.get("info")
                info: Mapping[str, object] = raw_info if isinstance(raw_info, Mapping) else {}
                selected = fields.amount(info.get("selectedTrack"), -1)
                return cls(
                    "playlist",
                    _tracks(data.get("tracks"), "'data.tracks'"),
                    playlist_name=fields.optional_text(info.get("name")),
                    selected=None if selected < 0 else selected,
                )
        except VectoBeatError as exc:
            raise InvalidInput(f"Lavalink loadtracks answer is malformed: {exc}") from None
        if kind == "empty":
            return cls("empty")
        if kind == "error":
            message = data.get("message") if isinstance(data, Mapping) else None
            severity = data.get("severity") if isinstance(data, Mapping) else None
            return cls(
                "error",
                error=fields.message(message, "The track could not be loaded."),
                severity=None if severity is None else _severity(severity),
            )
        raise InvalidInput(f"Lavalink loadtracks: unknown loadType {str(raw_kind)[:40]!r}")


@attrs.frozen
class PlayerInfo:
    """A guild's player as the cluster knows it; ``position_ms`` is extrapolated to now."""

    guild_id: GuildId
    node: NodeName
    region: Region
    preferred_region: Region
    track: Track | None
    position_ms: int
    paused: bool
    volume: int
    filters: Mapping[str, JSON]
    voice_channel_id: ChannelId | None


@attrs.frozen
class TrackStart:
    """A track started; ``restored`` when it is a failover or return resuming the same track."""

    guild_id: GuildId
    track: Track
    restored: bool = False


@attrs.frozen
class TrackEnd:
    """A track ended; the bot advances its queue when ``starts_next`` (finished/loadFailed)."""

    guild_id: GuildId
    track: Track | None
    reason: EndReason

    @property
    def starts_next(self) -> bool:
        return self.reason in ("finished", "loadFailed")


@attrs.frozen
class TrackException:
    guild_id: GuildId
    track: Track | None
    message: str
    severity: str
    cause: str


@attrs.frozen
class TrackStuck:
    guild_id: GuildId
    track: Track | None
    threshold_ms: int


@attrs.frozen
class WebSocketClosed:
    """Discord closed the player's voice connection (the bot should reconnect voice)."""

    guild_id: GuildId
    code: int
    reason: str
    by_remote: bool


@attrs.frozen
class PlayerMoved:
    """The cluster rebuilt the player on another node (a failover), playing or idle: what names
    its node (a snapshot, the panel's queue view) is stale. Not a Lavalink op: the cluster's own."""

    guild_id: GuildId
    from_node: NodeName
    to_node: NodeName


LavalinkEvent: TypeAlias = (
    TrackStart | TrackEnd | TrackException | TrackStuck | WebSocketClosed | PlayerMoved
)


_END_REASON_NAMES = fields.names(_END_REASONS)
_EVENT_TYPES = fields.names(
    (
        "TrackStartEvent",
        "TrackEndEvent",
        "TrackExceptionEvent",
        "TrackStuckEvent",
        "WebSocketClosedEvent",
    )
)


def _optional_track(value: object) -> Track | None:
    """An event's track when usable: a missing or malformed one is ``None``, not a lost event."""
    if value is None:
        return None
    try:
        return Track.from_lavalink(value)
    except VectoBeatError:
        return None


def parse_event(guild_id: GuildId, payload: Mapping[str, object]) -> LavalinkEvent | None:
    """An ``event`` op as a value, its fields read liberally (`lavalink_fields`).

    ``None`` for an event type Lavalink v4 does not define (plugins send their own). Only a
    ``TrackStartEvent`` without a usable track raises ``InvalidInput``; an unknown end reason
    reads ``stopped`` (the queue does not advance on a guess), an unknown severity ``fault``.
    """
    kind = fields.named(payload.get("type"), _EVENT_TYPES, None)
    if kind == "TrackStartEvent":
        try:
            return TrackStart(guild_id, Track.from_lavalink(payload.get("track")))
        except VectoBeatError as exc:
            raise InvalidInput(f"Lavalink TrackStartEvent is malformed: {exc}") from None
    track = _optional_track(payload.get("track"))
    if kind == "TrackEndEvent":
        reason = fields.named(payload.get("reason"), _END_REASON_NAMES, "stopped")
        return TrackEnd(guild_id, track, reason)
    if kind == "TrackExceptionEvent":
        exception = payload.get("exception")
        details: Mapping[str, object] = exception if isinstance(exception, Mapping) else {}
        severity = details.get("severity")
        return TrackException(
            guild_id,
            track,
            fields.message(details.get("message"), "The track failed to play."),
            "common" if severity is None else _severity(severity),
            fields.message(details.get("cause"), ""),
        )
    if kind == "TrackStuckEvent":
        return TrackStuck(guild_id, track, fields.amount(payload.get("thresholdMs"), 0))
    if kind == "WebSocketClosedEvent":
        code = fields.whole(payload.get("code"))
        return WebSocketClosed(
            guild_id,
            0 if code is None else code,
            fields.message(payload.get("reason"), ""),
            fields.flag(payload.get("byRemote"), False),
        )
    return None


@attrs.frozen
class NodeFailover:
    """One finished failover of a down node: how many players it held, moved, left stranded, and
    how many pinned ones had to leave their region (the bot alarms on it once, with counts)."""

    node: NodeName
    region: Region
    reason: str
    players: int
    moved: int
    stranded: int
    out_of_region: int


@attrs.frozen
class FailoverCounts:
    """Counters for metrics: node failovers, players moved/returned/stranded (each time one
    becomes stranded)/rebuilt (on a node that came back with a new session), failed moves."""

    failovers: int = 0
    players_moved: int = 0
    players_returned: int = 0
    players_stranded: int = 0
    players_rebuilt: int = 0
    players_adopted: int = 0
    move_failures: int = 0
    bad_payloads: int = 0

    to_json = dump_method()
    """Every counter by its field name, in field order."""


class NoLyricsPlugin(NotEnabled):
    """The guild's node has no lyrics plugin."""


@attrs.frozen
class LyricsLine:
    """One synced line: where it starts (ms into the track) and for how long, if known."""

    timestamp_ms: int
    duration_ms: int | None
    line: str


@attrs.frozen
class Lyrics:
    """A track's lyrics: synced ``lines`` where the source has them, else plain ``text``."""

    source: str
    provider: str
    text: str | None
    lines: tuple[LyricsLine, ...]

    @property
    def synced(self) -> bool:
        return bool(self.lines)

    def rows(self) -> list[str]:
        """What is shown, one row per line: ``[1:23] line`` when synced, else the text's lines."""
        if self.lines:
            return [f"[{format_duration(ln.timestamp_ms)}] {ln.line}".rstrip() for ln in self.lines]
        return (self.text or "").splitlines()
