"""How tracks, queues and players read in Discord messages."""

from __future__ import annotations

from vectobeat_bot.i18n import _, ngettext, phrase_text
from vectobeat_core.dependencies import age_message
from vectobeat_core.filters import Effects
from vectobeat_core.lavalink import PlayerInfo
from vectobeat_core.playback import format_duration
from vectobeat_core.queue import GuildQueue, LoopMode, QueuePage
from vectobeat_core.queue_entry import loop_label
from vectobeat_core.tracks import Track
from vectobeat_core.voting import VoteTally
from vectobeat_core.wording import counted

__all__ = [
    "age_text",
    "clip",
    "effect_list",
    "effects_line",
    "length_text",
    "loop_text",
    "now_playing_text",
    "plural",
    "queue_page_text",
    "tally_text",
    "track_line",
    "tracks_count",
]


def plural(count: int, noun: str) -> str:
    """``1 track``, ``2 tracks`` (the core's `counted`; English only: replies use
    ``ngettext``)."""
    return counted(count, noun)


def tracks_count(count: int) -> str:
    """``1 track``, ``2 tracks`` in the current language."""
    return ngettext("{count} track", "{count} tracks", count).format(count=count)


def length_text(track: Track) -> str:
    """A track's duration, or "live" for a stream."""
    return _("live") if track.is_stream else format_duration(track.length)


def loop_text(mode: LoopMode) -> str:
    """A loop mode in the current language."""
    return _(loop_label(mode))


def age_text(seconds: float) -> str:
    """``3 min ago`` in the current language (the core's `age_message` decides which)."""
    text, number = age_message(seconds)
    return _(text).format(n=number)


def tally_text(tally: VoteTally) -> str:
    """``2/3 votes to skip`` in the current language."""
    return _("{votes}/{needed} votes to skip").format(votes=tally.votes, needed=tally.needed)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")


def track_line(track: Track) -> str:
    return _("**{title}** by {author} ({length})").format(
        title=_escape(clip(track.title, 80)),
        author=_escape(clip(track.author, 40)),
        length=length_text(track),
    )


def effect_list(effects: Effects) -> str:
    """``Nightcore, Equalizer: bass``, in the member's language."""
    return ", ".join(phrase_text(label) for label in effects.labels())


def effects_line(effects: Effects) -> str:
    """``Filters: Nightcore, 8D.`` (or that none are on)."""
    if not effects:
        return _("Filters: none (the playback quality's own only).")
    return _("Filters: {names}.").format(names=effect_list(effects))


def now_playing_text(
    queue: GuildQueue, info: PlayerInfo | None, effects: Effects | None = None
) -> str:
    current = queue.current
    if current is None:
        return _("Nothing is playing right now.")
    lines = [_("Now playing {track}").format(track=track_line(current.track))]
    if info is not None:
        lines.append(
            _(
                "{position} / {total} · {state} · volume {volume}% · loop {loop} · "
                "node {node} ({region})"
            ).format(
                position=format_duration(info.position_ms),
                total=length_text(current.track),
                state=_("paused") if info.paused else _("playing"),
                volume=info.volume,
                loop=loop_text(queue.loop),
                node=info.node,
                region=info.region.value,
            )
        )
    if effects:
        lines.append(effects_line(effects))
    lines.append(
        ngettext("{count} track up next.", "{count} tracks up next.", len(queue)).format(
            count=len(queue)
        )
    )
    return "\n".join(lines)


def queue_page_text(queue: GuildQueue, page: QueuePage) -> str:
    lines: list[str] = []
    if queue.current is not None:
        lines.append(_("Now playing {track}").format(track=track_line(queue.current.track)))
    if not page.tracks:
        lines.append(_("The queue is empty."))
    for offset, track in enumerate(page.tracks):
        lines.append(f"{page.start + offset}. {track_line(track)}")
    lines.append(
        _("Page {page}/{pages} · {tracks} · {total} total · loop {loop}").format(
            page=page.page,
            pages=page.pages,
            tracks=tracks_count(page.total),
            total=format_duration(queue.total_duration()),
            loop=loop_text(queue.loop),
        )
    )
    return "\n".join(lines)
