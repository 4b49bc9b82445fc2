"""Playback rules the commands share: positions, seeking, volume, queries, playlist limits.

Positions people type are ``ss``, ``mm:ss`` or ``hh:mm:ss`` (``90``, ``1:30``, ``1:02:03``);
`parse_position` reads them into milliseconds, `format_duration` writes them back.
"""

from __future__ import annotations

import re

from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.plans import Plan
from vectobeat_core.settings import MAX_VOLUME, ServerSettings
from vectobeat_core.tracks import Track

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_VOLUME",
    "check_playlist_room",
    "check_seek",
    "check_volume",
    "format_duration",
    "is_link",
    "parse_position",
    "queue_capacity",
    "search_identifier",
]

MAX_QUERY_LENGTH = 500
_POSITION = re.compile(r"[0-9]{1,6}(?::[0-9]{1,2}){0,2}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def parse_position(text: str) -> int:
    """``ss``, ``mm:ss`` or ``hh:mm:ss`` in milliseconds; anything else raises `InvalidInput`."""
    if not isinstance(text, str):
        raise InvalidInput(f"A position must be text like 1:30, got {type(text).__name__}.")
    cleaned = text.strip()
    if not _POSITION.fullmatch(cleaned):
        raise InvalidInput(
            f"{cleaned[:20]!r} is not a position: write seconds (90), mm:ss (1:30) or hh:mm:ss "
            "(1:02:03)."
        )
    parts = [int(part) for part in cleaned.split(":")]
    if len(parts) > 1 and any(part >= 60 for part in parts[1:]):
        raise InvalidInput(
            f"{cleaned!r} is not a position: minutes and seconds after a colon go up to 59."
        )
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds * 1000


def format_duration(ms: int) -> str:
    """``m:ss`` (or ``h:mm:ss`` from an hour on) of a non-negative number of milliseconds."""
    total = max(0, int(ms)) // 1000
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def check_seek(track: Track, position_ms: int) -> int:
    """``position_ms`` if ``track`` can be sought there; else `InvalidInput` with the valid range."""
    if track.is_stream or not track.is_seekable:
        raise InvalidInput(f"{track.title} is a live stream or cannot be sought.")
    if not 0 <= position_ms < track.length:
        raise InvalidInput(
            f"{format_duration(position_ms)} is past the end of {track.title}: choose a position "
            f"from 0:00 to {format_duration(max(0, track.length - 1000))}."
        )
    return position_ms


def check_volume(volume: int) -> int:
    """A volume from 0 to 200 percent, else `InvalidInput` saying so."""
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= MAX_VOLUME:
        raise InvalidInput(f"Volume must be from 0 to {MAX_VOLUME} percent, got {volume!r}.")
    return volume


def is_link(identifier: str) -> bool:
    """Whether ``identifier`` (as `search_identifier` returns it) is a link, not a search."""
    return bool(_URL.fullmatch(identifier))


def search_identifier(query: str, source: str = "ytsearch") -> str:
    """What to ask Lavalink for: a URL as is, anything else as a ``source:`` search."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("Say what to play: a link or some words to search for.")
    cleaned = query.strip()
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"A query is at most {MAX_QUERY_LENGTH} characters long.")
    if is_link(cleaned):
        return cleaned
    return f"{source}:{cleaned}"


def queue_capacity(plan: Plan, settings: ServerSettings) -> int:
    """How many upcoming tracks a guild's queue holds: its setting, never above the plan's cap."""
    return min(plan.queue_cap, settings.queue_limit)


def check_playlist_room(plan: Plan, existing: int, tracks: int, *, replacing: bool) -> None:
    """Raise `LimitExceeded` when saving a playlist of ``tracks`` would pass the plan's limits."""
    if plan.playlist_limit == 0 or plan.playlist_track_limit == 0:
        raise LimitExceeded(
            f"Saved playlists are not included in your plan ({plan.label}); upgrade to save them."
        )
    if not replacing and plan.playlist_limit is not None and existing >= plan.playlist_limit:
        raise LimitExceeded(
            f"Your plan ({plan.label}) keeps at most {plan.playlist_limit} playlists; delete one "
            "first or upgrade."
        )
    if plan.playlist_track_limit is not None and tracks > plan.playlist_track_limit:
        raise LimitExceeded(
            f"Your plan ({plan.label}) saves at most {plan.playlist_track_limit} tracks per "
            f"playlist; this one has {tracks}."
        )
    if tracks == 0:
        raise InvalidInput("There is nothing to save: the queue is empty.")
