"""Playback rules the commands share: positions, seeking, volume, queries, playlist limits.

Positions people type are ``ss``, ``mm:ss`` or ``hh:mm:ss`` (``90``, ``1:30``, ``1:02:03``);
`parse_position` reads them into milliseconds, `format_duration` writes them back. `/seek` also
takes a step from where the track is (``+10``, ``-1:30``): `parse_seek` reads either into a
`SeekTarget`. `check_member_room` is the per-member queue limit (``member_track_limit``).
"""

from __future__ import annotations

import re

import attrs

from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.messages import Term
from vectobeat_core.plans import Plan
from vectobeat_core.settings import MAX_VOLUME, ServerSettings
from vectobeat_core.tracks import Track

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_VOLUME",
    "SeekTarget",
    "check_member_room",
    "check_playlist_room",
    "check_seek",
    "check_volume",
    "format_duration",
    "is_link",
    "parse_position",
    "parse_seek",
    "queue_capacity",
    "search_identifier",
]

MAX_QUERY_LENGTH = 500
_POSITION = re.compile(r"[0-9]{1,6}(?::[0-9]{1,2}){0,2}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


_POSITION_FORMS = Term("seconds (90), mm:ss (1:30) or hh:mm:ss (1:02:03)")
_SEEK_FORMS = Term(
    "seconds (90), mm:ss (1:30) or hh:mm:ss (1:02:03), or a step from now like +10 or -1:30"
)


def _clock_ms(cleaned: str, shown: str, forms: str) -> int:
    """``cleaned`` (``ss``, ``mm:ss`` or ``hh:mm:ss``) in milliseconds; ``shown`` names it in the
    error, which lists ``forms``."""
    if not _POSITION.fullmatch(cleaned):
        raise InvalidInput(
            "{shown} is not a position: write {forms}.", shown=repr(shown[:20]), forms=forms
        )
    parts = [int(part) for part in cleaned.split(":")]
    if len(parts) > 1 and any(part >= 60 for part in parts[1:]):
        raise InvalidInput(
            "{shown} is not a position: minutes and seconds after a colon go up to 59.",
            shown=repr(shown),
        )
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds * 1000


def _text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidInput(
            "A position must be text like 1:30, got {kind}.", kind=type(text).__name__
        )
    return text.strip()


def parse_position(text: str) -> int:
    """``ss``, ``mm:ss`` or ``hh:mm:ss`` in milliseconds; anything else raises `InvalidInput`."""
    cleaned = _text(text)
    return _clock_ms(cleaned, cleaned, _POSITION_FORMS)


@attrs.frozen(slots=True)
class SeekTarget:
    """Where a seek goes: the absolute position ``ms``, or (``relative``) ``ms`` from now."""

    ms: int
    relative: bool = False

    def resolve(self, position_ms: int) -> int:
        """The absolute position, given the track is at ``position_ms``; a step back stops at 0."""
        return max(0, position_ms + self.ms) if self.relative else self.ms


def parse_seek(text: str) -> SeekTarget:
    """``83``, ``1:23``, ``1:02:03`` (a position) or ``+10``, ``-1:30`` (a step from now)."""
    cleaned = _text(text)
    sign, rest = cleaned[:1], cleaned[1:].strip()
    if sign in ("+", "-"):
        ms = _clock_ms(rest, cleaned, _SEEK_FORMS)
        return SeekTarget(-ms if sign == "-" else ms, relative=True)
    return SeekTarget(_clock_ms(cleaned, cleaned, _SEEK_FORMS))


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
        raise InvalidInput("{title} is a live stream or cannot be sought.", title=track.title)
    if not 0 <= position_ms < track.length:
        raise InvalidInput(
            "{position} is past the end of {title}: choose a position from 0:00 to {last}.",
            position=format_duration(position_ms),
            title=track.title,
            last=format_duration(max(0, track.length - 1000)),
        )
    return position_ms


def check_member_room(limit: int | None, queued: int, adding: int) -> None:
    """Raise `LimitExceeded` when a member who has ``queued`` upcoming tracks may not add
    ``adding`` more: ``limit`` is the server's ``member_track_limit`` (``None`` or 0: no limit)."""
    if not limit or queued + adding <= limit:
        return
    raise LimitExceeded(
        "This server lets each member have at most {limit} {limit_noun} queued; you have "
        "{queued}, so {adding} more {noun} cannot be added ({free} free). Wait until some have "
        "played, or ask a DJ.",
        limit=limit,
        limit_noun=Term("track") if limit == 1 else Term("tracks"),
        queued=queued,
        adding=adding,
        noun=Term("track") if adding == 1 else Term("tracks"),
        free=max(0, limit - queued),
    )


def check_volume(volume: int) -> int:
    """A volume from 0 to 200 percent, else `InvalidInput` saying so."""
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= MAX_VOLUME:
        raise InvalidInput(
            "Volume must be from 0 to {most} percent, got {volume}.",
            most=MAX_VOLUME,
            volume=repr(volume),
        )
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
        raise InvalidInput("A query is at most {most} characters long.", most=MAX_QUERY_LENGTH)
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
            "Saved playlists are not included in your plan ({plan}); upgrade to save them.",
            plan=plan.label,
        )
    if not replacing and plan.playlist_limit is not None and existing >= plan.playlist_limit:
        raise LimitExceeded(
            "Your plan ({plan}) keeps at most {most} playlists; delete one first or upgrade.",
            plan=plan.label,
            most=plan.playlist_limit,
        )
    if plan.playlist_track_limit is not None and tracks > plan.playlist_track_limit:
        raise LimitExceeded(
            "Your plan ({plan}) saves at most {most} tracks per playlist; this one has {tracks}.",
            plan=plan.label,
            most=plan.playlist_track_limit,
            tracks=tracks,
        )
    if tracks == 0:
        raise InvalidInput("There is nothing to save: the queue is empty.")
