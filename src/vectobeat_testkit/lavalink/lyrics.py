"""The LavaLyrics plugin on the fake node: its two REST routes and its Lyrics object.

``GET /v4/sessions/{sessionId}/players/{guildId}/track/lyrics`` (the player's current track; 404
when nothing plays) and ``GET /v4/lyrics?track=<encoded>`` answer 200 with LavaLyrics' object
``{sourceName, provider, text, lines: [{timestamp, duration, line, plugin}], plugin}``, or 204
when the catalogue has no lyrics for the track. ``skipTrackSource=true`` names the fallback
source instead of the track's own. A node started with ``lyrics_plugin=False`` (a stock
Lavalink) lists no ``lavalyrics-plugin`` in ``/v4/info`` and answers these routes 404.
"""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

__all__ = ["FALLBACK_SOURCE", "LYRICS_PLUGIN", "Lyrics", "lyrics_json", "no_lyrics"]

LYRICS_PLUGIN: dict[str, str] = {"name": "lavalyrics-plugin", "version": "1.1.0"}
"""How ``/v4/info`` lists the plugin."""

FALLBACK_SOURCE = "lrclib"
"""The source answering when ``skipTrackSource`` is true."""


@attrs.frozen
class Lyrics:
    """A track's lyrics in the catalogue: synced ``lines`` (``(timestamp ms, line)``) or plain
    ``text``; ``provider`` is who the source got them from."""

    lines: tuple[tuple[int, str], ...] = ()
    text: str | None = None
    provider: str = "FakeMatch"


def lyrics_json(lyrics: Lyrics, source: str) -> dict[str, Any]:
    """LavaLyrics' Lyrics object; a synced line lasts until the next one starts."""
    lines: list[dict[str, Any]] = []
    for index, (timestamp, line) in enumerate(lyrics.lines):
        following = lyrics.lines[index + 1][0] if index + 1 < len(lyrics.lines) else None
        duration = None if following is None else following - timestamp
        lines.append({"timestamp": timestamp, "duration": duration, "line": line, "plugin": {}})
    return {
        "sourceName": source,
        "provider": lyrics.provider,
        "text": lyrics.text,
        "lines": lines,
        "plugin": {},
    }


def no_lyrics() -> web.Response:
    """LavaLyrics' answer when no source has lyrics for the track."""
    return web.Response(status=204)
