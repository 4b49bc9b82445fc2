"""Autoplay: what to queue when a guild's queue runs out and its ``autoplay`` setting is on.

The way Lavalink bots do it: load the YouTube mix of the last track (``&list=RD<id>``), or, for a
track from another source, a YouTube search for its artist; then queue a few of the results that
were not played recently (`pick_related`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from vectobeat_core.errors import InvalidInput
from vectobeat_core.tracks import Track

__all__ = ["AUTOPLAY_BATCH", "AUTOPLAY_RECENT", "pick_related", "related_identifier", "song_key"]

AUTOPLAY_BATCH: Final = 3
"""How many related tracks autoplay queues at a time."""

AUTOPLAY_RECENT: Final = 25
"""How many of the last played tracks autoplay never queues again."""


def song_key(track: Track) -> str:
    """One song across URIs (a mix entry and a plain link to the same video): source + id."""
    return f"{track.source}:{track.identifier}"


def related_identifier(track: Track) -> str:
    """The ``loadtracks`` identifier of tracks related to ``track``: its YouTube mix, or a YouTube
    search for its artist when it is not from YouTube."""
    if track.source == "youtube" and track.identifier:
        ident = track.identifier
        return f"https://www.youtube.com/watch?v={ident}&list=RD{ident}"
    return f"ytsearch:{track.author}"


def pick_related(
    candidates: Sequence[Track], recent: Iterable[Track], limit: int = AUTOPLAY_BATCH
) -> tuple[Track, ...]:
    """Up to ``limit`` of ``candidates``, in order, skipping streams, the ``recent`` tracks and
    repeats within ``candidates``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInput(
            f"The autoplay batch must be a whole number of 0 or more, not {limit!r}."
        )
    seen = {song_key(track) for track in recent}
    chosen: list[Track] = []
    for track in candidates:
        if len(chosen) >= limit:
            break
        key = song_key(track)
        if track.is_stream or key in seen:
            continue
        seen.add(key)
        chosen.append(track)
    return tuple(chosen)
