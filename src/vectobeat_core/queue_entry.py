"""The values a guild queue hands out: `QueueEntry`, `QueuePage` and the `LoopMode`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from itertools import repeat
from typing import Any, Final

import attrs

from vectobeat_core.errors import InvalidSnapshot, InvalidTrack
from vectobeat_core.ids import EntryId
from vectobeat_core.tracks import Track

__all__ = ["MAX_ENTRY_ID", "LoopMode", "QueueEntry", "QueuePage"]

MAX_ENTRY_ID: Final = 2**32 - 1
"""Entry ids are stored in 4 bytes; a queue hands out at most this many in its lifetime."""


class LoopMode(StrEnum):
    """What `GuildQueue.next` does when a track ends."""

    OFF = "off"
    TRACK = "track"
    QUEUE = "queue"


@attrs.frozen(slots=True, weakref_slot=False)
class QueueEntry:
    """A track in a queue; ``entry_id`` tells apart two entries of the same track."""

    entry_id: EntryId
    track: Track

    def to_json(self) -> dict[str, Any]:
        return {"id": self.entry_id, "t": self.track.to_json()}

    @classmethod
    def from_json(cls, obj: object) -> QueueEntry:
        """Read the form `to_json` writes; bad input raises `InvalidSnapshot`."""
        if not isinstance(obj, Mapping) or "id" not in obj or "t" not in obj:
            raise InvalidSnapshot("A queue entry must be an object with 'id' and 't'.")
        entry_id = obj["id"]
        if isinstance(entry_id, bool) or not isinstance(entry_id, int):
            raise InvalidSnapshot(f"Queue entry id must be a positive integer, got {entry_id!r}.")
        if not 0 < entry_id <= MAX_ENTRY_ID:
            raise InvalidSnapshot(f"Queue entry id must be in 1-{MAX_ENTRY_ID}, got {entry_id}.")
        try:
            track = Track.from_json(obj["t"])
        except InvalidTrack as exc:
            raise InvalidSnapshot(f"Queue entry {entry_id}: {exc.message}") from None
        return cls(EntryId(entry_id), track)


@attrs.frozen(slots=True)
class QueuePage:
    """One page of upcoming entries; ``start`` is the position of the first item."""

    items: tuple[QueueEntry, ...]
    page: int
    pages: int
    per_page: int
    total: int
    start: int


new_object = object.__new__
set_entry_id = QueueEntry.__dict__["entry_id"].__set__
"""Sets the slot directly: `make_entry` builds an entry without attrs' frozen ``__init__``."""
set_entry_track = QueueEntry.__dict__["track"].__set__


def make_entry(entry_id: int, track: Track) -> QueueEntry:
    """A `QueueEntry` from an id and track the queue already holds (no checks, half the cost).

    Equal to ``QueueEntry(EntryId(entry_id), track)``; only the queue's internal paths use it.
    """
    entry: QueueEntry = new_object(QueueEntry)
    set_entry_id(entry, entry_id)
    set_entry_track(entry, track)
    return entry


_page_slots = tuple(
    QueuePage.__dict__[name].__set__
    for name in ("items", "page", "pages", "per_page", "total", "start")
)


def make_page(
    items: tuple[QueueEntry, ...], *, page: int, pages: int, per_page: int, total: int, start: int
) -> QueuePage:
    """A `QueuePage` from checked values, without attrs' frozen ``__init__`` (as `make_entry`)."""
    made: QueuePage = new_object(QueuePage)
    set_items, set_page, set_pages, set_per_page, set_total, set_start = _page_slots
    set_items(made, items)
    set_page(made, page)
    set_pages(made, pages)
    set_per_page(made, per_page)
    set_total(made, total)
    set_start(made, start)
    return made


def make_entries(ids: Iterable[int], tracks: Sequence[Track]) -> tuple[QueueEntry, ...]:
    """`make_entry` over parallel ids and tracks, looping at C speed (``map`` consumed by ``any``)."""
    entries = tuple(map(new_object, repeat(QueueEntry, len(tracks))))
    any(map(set_entry_id, entries, ids))
    any(map(set_entry_track, entries, tracks))
    return entries
