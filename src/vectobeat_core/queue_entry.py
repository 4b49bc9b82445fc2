"""The values a guild queue hands out: `QueueEntry`, `QueuePage` and the `LoopMode`.

`QueueEntry` and `QueuePage` are immutable: read-only properties over private slots, so that the
compiled build (see ``hatch_build.py``) makes them native classes, cheap to create and to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final, final

from mypy_extensions import mypyc_attr

from vectobeat_core.errors import InvalidInput, InvalidSnapshot, InvalidTrack
from vectobeat_core.ids import EntryId
from vectobeat_core.jsonform import register
from vectobeat_core.messages import message_id
from vectobeat_core.tracks import Track

__all__ = ["MAX_ENTRY_ID", "LoopMode", "QueueEntry", "QueuePage", "loop_label", "pair_entries"]

MAX_ENTRY_ID: Final = 2**32 - 1
"""Entry ids are stored in 4 bytes; a queue hands out at most this many in its lifetime."""


class LoopMode(StrEnum):
    """What `GuildQueue.next` does when a track ends."""

    OFF = "off"
    TRACK = "track"
    QUEUE = "queue"


_LOOP_LABELS: Final[Mapping[LoopMode, str]] = {
    LoopMode.OFF: message_id("off"),
    LoopMode.TRACK: message_id("track"),
    LoopMode.QUEUE: message_id("queue"),
}


def loop_label(mode: LoopMode) -> str:
    """How a loop mode reads for people (a message id: the shells translate it)."""
    return _LOOP_LABELS[mode]


@final
@mypyc_attr(acyclic=True, free_list_len=1)  # compiled: one freed entry is kept for the next
class QueueEntry:
    """A track in a queue; ``entry_id`` tells apart two entries of the same track."""

    __slots__ = ("_entry_id", "_track")

    def __init__(self, entry_id: EntryId, track: Track) -> None:
        self._entry_id = entry_id
        self._track = track

    @property
    def entry_id(self) -> EntryId:
        return self._entry_id

    @property
    def track(self) -> Track:
        return self._track

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueueEntry):
            return NotImplemented
        return self._entry_id == other._entry_id and self._track == other._track

    def __hash__(self) -> int:
        return hash((self._entry_id, self._track))

    def __repr__(self) -> str:
        return f"QueueEntry(entry_id={self._entry_id!r}, track={self._track!r})"

    # Its JSON is by hand, not by jsonform: a native class in the compiled build, not an attrs
    # class; registered with jsonform below, so snapshots hold it like any other value.
    def to_json(self) -> dict[str, Any]:
        return {"id": self._entry_id, "t": self._track.to_json()}

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


register(QueueEntry, dump=QueueEntry.to_json, load=QueueEntry.from_json)


def pair_entries(entry_ids: list[int], tracks: list[Track]) -> tuple[QueueEntry, ...]:
    """`QueueEntry` values for parallel ``entry_ids`` and ``tracks`` (of equal length; lists,
    which compiled code indexes directly)."""
    return tuple([QueueEntry(EntryId(entry_ids[k]), tracks[k]) for k in range(len(tracks))])


@final
@mypyc_attr(acyclic=True)
class QueuePage:
    """One page of upcoming entries; ``start`` is the position of the first.

    The page holds its entries as two columns, ``entry_ids`` and ``tracks``; `items` pairs them
    into `QueueEntry` values when asked. Showing a page needs only ``tracks``.
    """

    __slots__ = ("_entry_ids", "_page", "_pages", "_per_page", "_start", "_total", "_tracks")

    def __init__(
        self,
        entry_ids: tuple[EntryId, ...],
        tracks: tuple[Track, ...],
        *,
        page: int,
        pages: int,
        per_page: int,
        total: int,
        start: int,
    ) -> None:
        if len(entry_ids) != len(tracks):
            raise InvalidInput(
                f"A queue page needs one entry id per track, got {len(entry_ids)} ids "
                f"for {len(tracks)} tracks."
            )
        self._entry_ids = entry_ids
        self._tracks = tracks
        self._page = page
        self._pages = pages
        self._per_page = per_page
        self._total = total
        self._start = start

    @property
    def entry_ids(self) -> tuple[EntryId, ...]:
        return self._entry_ids

    @property
    def tracks(self) -> tuple[Track, ...]:
        return self._tracks

    @property
    def items(self) -> tuple[QueueEntry, ...]:
        """The entries: ``entry_ids`` and ``tracks`` paired."""
        return pair_entries(list(self._entry_ids), list(self._tracks))

    @property
    def page(self) -> int:
        return self._page

    @property
    def pages(self) -> int:
        return self._pages

    @property
    def per_page(self) -> int:
        return self._per_page

    @property
    def total(self) -> int:
        return self._total

    @property
    def start(self) -> int:
        return self._start

    def _key(
        self,
    ) -> tuple[tuple[EntryId, ...], tuple[Track, ...], int, int, int, int, int]:
        return (
            self._entry_ids,
            self._tracks,
            self._page,
            self._pages,
            self._per_page,
            self._total,
            self._start,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueuePage):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"QueuePage(entry_ids={self._entry_ids!r}, tracks={self._tracks!r}, "
            f"page={self._page}, pages={self._pages}, per_page={self._per_page}, "
            f"total={self._total}, start={self._start})"
        )
