"""How tracks, queues and players read in Discord messages."""

from __future__ import annotations

from vectobeat_core.filters import Effects
from vectobeat_core.lavalink import PlayerInfo
from vectobeat_core.playback import format_duration
from vectobeat_core.queue import GuildQueue, QueuePage
from vectobeat_core.tracks import Track
from vectobeat_core.wording import counted

__all__ = ["clip", "effects_line", "now_playing_text", "plural", "queue_page_text", "track_line"]


def plural(count: int, noun: str) -> str:
    """``1 track``, ``2 tracks`` (the core's `counted`)."""
    return counted(count, noun)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")


def track_line(track: Track) -> str:
    length = "live" if track.is_stream else format_duration(track.length)
    return f"**{_escape(clip(track.title, 80))}** by {_escape(clip(track.author, 40))} ({length})"


def effects_line(effects: Effects) -> str:
    """``Filters: Nightcore, 8D.`` (or that none are on)."""
    if not effects:
        return "Filters: none (the playback quality's own only)."
    return f"Filters: {', '.join(effects.names())}."


def now_playing_text(
    queue: GuildQueue, info: PlayerInfo | None, effects: Effects | None = None
) -> str:
    current = queue.current
    if current is None:
        return "Nothing is playing right now."
    lines = [f"Now playing {track_line(current.track)}"]
    if info is not None:
        state = "paused" if info.paused else "playing"
        where = f"node {info.node} ({info.region.value})"
        total = "live" if current.track.is_stream else format_duration(current.track.length)
        lines.append(
            f"{format_duration(info.position_ms)} / {total} · {state} · volume {info.volume}% · "
            f"loop {queue.loop.value} · {where}"
        )
    if effects:
        lines.append(effects_line(effects))
    lines.append(f"{len(queue)} track{'s' if len(queue) != 1 else ''} up next.")
    return "\n".join(lines)


def queue_page_text(queue: GuildQueue, page: QueuePage) -> str:
    lines: list[str] = []
    if queue.current is not None:
        lines.append(f"Now playing {track_line(queue.current.track)}")
    if not page.tracks:
        lines.append("The queue is empty.")
    for offset, track in enumerate(page.tracks):
        lines.append(f"{page.start + offset}. {track_line(track)}")
    lines.append(
        f"Page {page.page}/{page.pages} · {page.total} track{'s' if page.total != 1 else ''} · "
        f"{format_duration(queue.total_duration())} total · loop {queue.loop.value}"
    )
    return "\n".join(lines)
