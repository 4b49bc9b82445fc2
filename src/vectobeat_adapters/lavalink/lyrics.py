"""Lyrics through the LavaLyrics plugin's REST API on the guild's Lavalink node.

``GET /v4/sessions/{sessionId}/players/{guildId}/track/lyrics`` gives the lyrics of what the
player plays and ``GET /v4/lyrics?track=<encoded>`` those of any track; both answer LavaLyrics'
object (``sourceName``, ``provider``, ``text``, ``lines`` of ``{timestamp, duration, line}``) or
204 when there are none. A node without the plugin (``/v4/info`` lists no ``lavalyrics``) raises
`NoLyricsPlugin`; odd answers are read liberally (missing fields take defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from vectobeat_adapters.lavalink.node import NodeClient, NodeRequestError
from vectobeat_core.errors import QueueEmpty
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import Lyrics, LyricsLine, NoLyricsPlugin, PlayerInfo
from vectobeat_core.lavalink_fields import amount
from vectobeat_core.tracks import Track

__all__ = [
    "LYRICS_PLUGIN_MARK",
    "Lyrics",
    "LyricsLine",
    "NoLyricsPlugin",
    "NodeLyrics",
    "has_lyrics_plugin",
    "parse_lyrics",
]

LYRICS_PLUGIN_MARK = "lavalyrics"
"""A ``/v4/info`` plugin whose name contains this serves the lyrics routes."""


def _whole(value: object) -> int | None:
    number = amount(value, -1)
    return None if number < 0 else number


def parse_lyrics(payload: object) -> Lyrics | None:
    """LavaLyrics' object as `Lyrics`; ``None`` for no answer or one holding no words at all."""
    if not isinstance(payload, Mapping):
        return None
    lines: list[LyricsLine] = []
    raw_lines = payload.get("lines")
    for item in raw_lines if isinstance(raw_lines, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("line"), str):
            continue
        lines.append(
            LyricsLine(
                _whole(item.get("timestamp")) or 0, _whole(item.get("duration")), item["line"]
            )
        )
    text = payload.get("text")
    text = text if isinstance(text, str) and text.strip() else None
    if not lines and text is None:
        return None
    return Lyrics(
        source=str(payload.get("sourceName") or "unknown"),
        provider=str(payload.get("provider") or "unknown"),
        text=text,
        lines=tuple(sorted(lines, key=lambda ln: ln.timestamp_ms)),
    )


def has_lyrics_plugin(info: object) -> bool:
    """Whether a ``/v4/info`` answer lists a lyrics plugin."""
    plugins = info.get("plugins") if isinstance(info, Mapping) else None
    return any(
        isinstance(p, Mapping) and LYRICS_PLUGIN_MARK in str(p.get("name", "")).lower()
        for p in (plugins if isinstance(plugins, list) else ())
    )


def _flag(value: bool) -> str:
    return "true" if value else "false"


class _Players(Protocol):
    """What `NodeLyrics` reads of the cluster: a guild's player and a node by name."""

    def player(self, guild_id: GuildId) -> PlayerInfo | None: ...

    def node(self, name: NodeName) -> NodeClient: ...


class NodeLyrics:
    """Lyrics of a guild's current track, asked of the node its player is on."""

    def __init__(self, cluster: _Players) -> None:
        self.cluster = cluster

    async def _node(self, guild_id: GuildId) -> tuple[NodeClient, Track]:
        info = self.cluster.player(guild_id)
        if info is None or info.track is None:
            raise QueueEmpty("Nothing is playing right now.")
        node = self.cluster.node(info.node)
        if not has_lyrics_plugin(await node.request("GET", "/v4/info")):
            raise NoLyricsPlugin(
                "This node ({node}) has no lyrics plugin, so I cannot look up lyrics there.",
                node=info.node,
            )
        return node, info.track

    async def current(self, guild_id: GuildId, *, skip_track_source: bool = False) -> Lyrics | None:
        """The lyrics of what the guild's player plays (``None``: none found)."""
        node, track = await self._node(guild_id)
        query = {"skipTrackSource": _flag(skip_track_source)}
        try:
            payload = await node.request(
                "GET",
                f"/v4/sessions/{node.session_id}/players/{guild_id}/track/lyrics",
                query=query,
            )
        except NodeRequestError as exc:
            if exc.http_status != 404:  # 404: the node plays nothing (yet): ask by track
                raise
            payload = await node.request(
                "GET", "/v4/lyrics", query={"track": track.encoded, **query}
            )
        return parse_lyrics(payload)
