"""The guild queue: what plays now, what plays next, what played before.

Positions shown to users are 1-based; `PositionOutOfRange` states the valid range. The upcoming
entries live in a `BlockList` (``vectobeat_core._blocklist``), so adding at the end and taking the
next entry cost O(1), and insert / remove / move / jump / lookup at any position O(log n + block).
Every mutation increments ``version``. The values the queue hands out are in
``vectobeat_core.queue_entry`` and its snapshot form in ``vectobeat_core.queue_snapshot``; this
module re-exports them.

Wheels compile this module, ``_blocklist`` and ``queue_entry`` with mypyc (``hatch_build.py``).
Compiled code checks argument types itself, so the numbers a caller passes are typed
`SupportsIndex` and checked here: wrong input raises `InvalidInput` in either build.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Final, SupportsIndex, cast

import attrs

from vectobeat_core._blocklist import BlockList
from vectobeat_core.errors import (
    InvalidInput,
    InvalidSnapshot,
    InvalidTrack,
    LimitExceeded,
    PositionOutOfRange,
    QueueEmpty,
    QueueFull,
)
from vectobeat_core.ids import EntryId, GuildId
from vectobeat_core.messages import Term
from vectobeat_core.queue_entry import MAX_ENTRY_ID, LoopMode, QueueEntry, QueuePage, pair_entries
from vectobeat_core.queue_snapshot import (
    REGIONS,
    SNAPSHOT_KIND,
    SNAPSHOT_VERSION,
    JSONValue,
    PlayerState,
    QueueSnapshot,
    snapshot_seconds,
)
from vectobeat_core.tracks import MAX_LONG, Track

__all__ = [
    "MAX_ENTRY_ID",
    "REGIONS",
    "SNAPSHOT_KIND",
    "SNAPSHOT_VERSION",
    "GuildQueue",
    "JSONValue",
    "LoopMode",
    "PlayerState",
    "QueueEntry",
    "QueuePage",
    "QueueSnapshot",
]

MAX_PER_PAGE: Final = 100
MAX_HISTORY: Final = 10_000
_LOOP_VALUES: Final = frozenset(mode.value for mode in LoopMode)
_TRACK: Final[type[Track]] = Track
"""`Track` as a final name, which compiled code reads without a module-dict lookup."""


def _whole(what: str, value: object) -> int:
    """``value`` as an int (anything with ``__index__`` but a bool); else `InvalidInput`."""
    if type(value) is int:
        return value
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise InvalidInput(
        "{what} must be a whole number, got {value}.", what=Term(what), value=repr(value)
    )


def _position(what: str, value: object, low: int, high: int) -> int:
    number = _whole(what, value)
    if not low <= number <= high:
        raise PositionOutOfRange(what, number, low, high)
    return number


def _track(value: object) -> Track:
    if not isinstance(value, _TRACK):
        raise InvalidTrack("Only tracks can be queued, got {kind}.", kind=type(value).__name__)
    return value


def _duration(track: Track) -> int:
    return 0 if track.is_stream else track.length


class GuildQueue:
    """One guild's queue: the current entry, the upcoming entries and a bounded history.

    ``capacity`` limits the upcoming entries that `add` / `add_many` accept (``None``: no limit);
    going back with `previous` may exceed it by the one entry it puts back.
    """

    __slots__ = (
        "_current",
        "_history",
        "_history_limit",
        "_items",
        "_loop",
        "_next_id",
        "_unshuffled",
        "_upcoming_ms",
        "capacity",
        "guild_id",
        "version",
    )

    def __init__(
        self,
        guild_id: SupportsIndex,
        capacity: SupportsIndex | None = None,
        history_limit: SupportsIndex = 50,
    ) -> None:
        self.guild_id = GuildId(_whole("Guild id", guild_id))
        self.capacity: int | None = None
        if capacity is not None:
            self.capacity = _position("Queue capacity", capacity, 1, MAX_LONG)
        limit = _position("History limit", history_limit, 0, MAX_HISTORY)
        self.version = 0
        self._items = BlockList()
        self._current: QueueEntry | None = None
        self._history: list[QueueEntry] = []  # not a deque(maxlen=): 600 bytes less a queue
        self._history_limit = limit
        self._loop = LoopMode.OFF
        self._next_id = 1
        self._upcoming_ms = 0
        self._unshuffled: list[int] | None = None

    # -- reads ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of upcoming entries (the current one not counted)."""
        return self._items.size

    def __iter__(self) -> Iterator[QueueEntry]:
        """The upcoming entries in play order."""
        for entry_id, track in self._items:
            yield QueueEntry(EntryId(entry_id), track)

    def __repr__(self) -> str:
        return (
            f"<GuildQueue guild={self.guild_id} upcoming={len(self)} "
            f"loop={self._loop.value} version={self.version}>"
        )

    @property
    def current(self) -> QueueEntry | None:
        return self._current

    @property
    def loop(self) -> LoopMode:
        return self._loop

    @property
    def history(self) -> tuple[QueueEntry, ...]:
        """Entries played before, oldest first (at most ``history_limit``)."""
        return tuple(self._history)

    @property
    def history_limit(self) -> int:
        return self._history_limit

    @property
    def next_entry_id(self) -> int:
        return self._next_id

    def at(self, position: SupportsIndex) -> QueueEntry:
        """The upcoming entry at ``position`` (1-based)."""
        items = self._items
        index = _position("Position", position, 1, items.size) - 1
        block, offset = items.locate(index)
        return QueueEntry(EntryId(items.ids[block][offset]), items.tracks[block][offset])

    def page(self, page_no: SupportsIndex, per_page: SupportsIndex = 10) -> QueuePage:
        """Page ``page_no`` (1-based) of the upcoming entries; an empty queue has one empty page."""
        size = _position("Entries per page", per_page, 1, MAX_PER_PAGE)
        total = self._items.size
        pages = -(-total // size) or 1
        number = _position("Page", page_no, 1, pages)
        start = (number - 1) * size
        ids, tracks = self._items.slice(start, min(total, start + size))
        entry_ids = cast("tuple[EntryId, ...]", tuple(ids))
        return QueuePage(
            entry_ids,
            tuple(tracks),
            page=number,
            pages=pages,
            per_page=size,
            total=total,
            start=start + 1,
        )

    def total_duration(self) -> int:
        """Milliseconds of the current and upcoming tracks (streams count as 0)."""
        current = 0 if self._current is None else _duration(self._current.track)
        return current + self._upcoming_ms

    def remaining_duration(self, position_ms: SupportsIndex) -> int:
        """Milliseconds left: the rest of the current track from ``position_ms`` plus upcoming."""
        played = _position("Playback position", position_ms, 0, MAX_LONG)
        current = 0 if self._current is None else _duration(self._current.track)
        return max(0, current - played) + self._upcoming_ms

    # -- adding --------------------------------------------------------------------------------

    def _check_room(self, count: int) -> None:
        size = self._items.size
        if self.capacity is not None and size + count > self.capacity:
            free = max(0, self.capacity - size)
            raise QueueFull(
                "The queue is full: it holds {size} of {capacity} tracks, "
                "so {count} more {noun} cannot be added ({free} free).",
                size=size,
                capacity=self.capacity,
                count=count,
                noun=Term("track") if count == 1 else Term("tracks"),
                free=free,
            )

    def _take_ids(self, count: int) -> int:
        """Hand out ``count`` new entry ids; returns the first."""
        first = self._next_id
        if first + count - 1 > MAX_ENTRY_ID:
            raise LimitExceeded(
                "This queue has handed out all {most} entry ids it may; start a new queue.",
                most=MAX_ENTRY_ID,
            )
        self._next_id = first + count
        return first

    def add(self, track: Track, position: SupportsIndex | None = None) -> QueueEntry:
        """Queue ``track`` at the end, or before ``position`` (1..len+1)."""
        _track(track)
        items = self._items
        index = items.size
        if position is not None:
            index = _position("Position", position, 1, index + 1) - 1
        self._check_room(1)
        entry_id = self._take_ids(1)
        items.insert(index, entry_id, track)
        self._upcoming_ms += _duration(track)
        self.version += 1
        return QueueEntry(EntryId(entry_id), track)

    def add_many(
        self, tracks: Iterable[Track], position: SupportsIndex | None = None
    ) -> tuple[QueueEntry, ...]:
        """Queue ``tracks`` in order at the end or from ``position``: all of them or none."""
        batch = [_track(track) for track in tracks]
        items = self._items
        index = items.size
        if position is not None:
            index = _position("Position", position, 1, index + 1) - 1
        self._check_room(len(batch))
        if not batch:
            return ()
        first = self._take_ids(len(batch))
        new_ids = list(range(first, first + len(batch)))
        if len(batch) <= 32:
            for offset, (entry_id, track) in enumerate(zip(new_ids, batch, strict=True)):
                items.insert(index + offset, entry_id, track)
        else:
            ids, old = items.all_ids(), items.all_tracks()
            ids[index:index] = new_ids
            old[index:index] = batch
            items.reset(ids, old)
        self._upcoming_ms += sum(map(_duration, batch))
        self.version += 1
        return pair_entries(new_ids, batch)

    # -- playing -------------------------------------------------------------------------------

    def set_loop(self, mode: object) -> None:
        """Set the loop mode: a `LoopMode` or its value (``"off"``, ``"track"``, ``"queue"``)."""
        if not isinstance(mode, str) or mode not in _LOOP_VALUES:
            raise InvalidInput(
                "Loop mode must be off, track or queue, got {mode}.", mode=repr(mode)
            )
        self._loop = LoopMode(mode)
        self.version += 1

    def _pop(self, index: int) -> QueueEntry:
        entry_id, track = self._items.pop(index)
        self._upcoming_ms -= _duration(track)
        return QueueEntry(EntryId(entry_id), track)

    def _popleft(self) -> QueueEntry:
        entry_id, track = self._items.popleft()
        self._upcoming_ms -= _duration(track)
        return QueueEntry(EntryId(entry_id), track)

    def _retire(self, entry: QueueEntry) -> None:
        """An entry stops playing: into history, and back to the end when looping the queue."""
        self._remember(entry)
        if self._loop is LoopMode.QUEUE:
            track = entry.track
            self._items.append(entry.entry_id, track)
            self._upcoming_ms += _duration(track)

    def _remember(self, entry: QueueEntry) -> None:
        """Append ``entry`` to the history, dropping its oldest beyond ``history_limit``."""
        history = self._history
        history.append(entry)
        if len(history) > self._history_limit:
            del history[0]

    def next(self) -> QueueEntry | None:
        """The current track ended: the entry to play now (``None`` when nothing is left).

        Loop ``track`` repeats the current entry; loop ``queue`` sends it back to the end.
        """
        current = self._current
        if current is not None:
            if self._loop is LoopMode.TRACK:
                return current
            self._retire(current)
        elif not self._items.size:
            return None
        self._current = self._popleft() if self._items.size else None
        self.version += 1
        return self._current

    def skip(self, count: SupportsIndex = 1) -> QueueEntry | None:
        """Skip the current entry and the next ``count - 1``; returns the new current entry."""
        if self._current is None and not self._items.size:
            raise QueueEmpty("Nothing is playing and the queue is empty.")
        number = _position("Skip count", count, 1, max(1, self._items.size))
        if self._current is not None:
            self._retire(self._current)
        for _ in range(number - 1):
            self._retire(self._popleft())
        self._current = self._popleft() if self._items.size else None
        self.version += 1
        return self._current

    def jump(self, position: SupportsIndex) -> QueueEntry:
        """Play the entry at ``position`` now; the entries before it stay queued."""
        entry = self._pop(_position("Position", position, 1, self._items.size) - 1)
        if self._current is not None:
            self._retire(self._current)
        self._current = entry
        self.version += 1
        return entry

    def previous(self) -> QueueEntry:
        """Go back to the last entry in the history; the current one is queued first.

        An entry that looping put back in the queue is taken out of it (ids stay unique); going
        back to the entry that is playing just restarts it.
        """
        if not self._history:
            raise QueueEmpty("There is no previous track.")
        entry = self._history.pop()
        current = self._current
        if current is None or current.entry_id != entry.entry_id:
            index = self._items.find(entry.entry_id)
            if index is not None:
                self._pop(index)
            if current is not None:
                self._items.insert(0, current.entry_id, current.track)
                self._upcoming_ms += _duration(current.track)
            self._current = entry
        self.version += 1
        return entry

    def stop(self) -> None:
        """Drop the current entry (into the history) without advancing."""
        if self._current is None:
            raise QueueEmpty("Nothing is playing.")
        self._remember(self._current)
        self._current = None
        self.version += 1

    # -- editing -------------------------------------------------------------------------------

    def remove(self, position: SupportsIndex) -> QueueEntry:
        """Remove and return the upcoming entry at ``position``."""
        entry = self._pop(_position("Position", position, 1, self._items.size) - 1)
        self.version += 1
        return entry

    def remove_range(self, start: SupportsIndex, end: SupportsIndex) -> tuple[QueueEntry, ...]:
        """Remove the upcoming entries ``start..end`` (inclusive)."""
        items = self._items
        first = _position("Start position", start, 1, items.size)
        last = _position("End position", end, 1, items.size)
        if last < first:
            raise InvalidInput(
                "The range {first}-{last} is backwards: start must not pass end.",
                first=first,
                last=last,
            )
        if last - first < 32:
            removed = tuple([self._pop(first - 1) for _ in range(last - first + 1)])
        else:
            ids, tracks = items.all_ids(), items.all_tracks()
            removed = pair_entries(ids[first - 1 : last], tracks[first - 1 : last])
            del ids[first - 1 : last], tracks[first - 1 : last]
            items.reset(ids, tracks)
            self._upcoming_ms -= sum(_duration(entry.track) for entry in removed)
        self.version += 1
        return removed

    def move(self, source: SupportsIndex, target: SupportsIndex) -> QueueEntry:
        """Move the entry at ``source`` so that it ends up at ``target``."""
        items = self._items
        size = items.size
        index = _position("Source position", source, 1, size) - 1
        to = _position("Target position", target, 1, size) - 1
        entry_id, track = items.pop(index)
        items.insert(to, entry_id, track)
        self.version += 1
        return QueueEntry(EntryId(entry_id), track)

    def shuffle(self, seed: SupportsIndex) -> None:
        """Shuffle the upcoming entries (the current entry never moves); same seed, same order.

        The order before is kept for `unshuffle` (one level: a second shuffle replaces it)."""
        rng = random.Random(_whole("Shuffle seed", seed))
        items = self._items
        ids, tracks = items.all_ids(), items.all_tracks()
        order = list(range(len(ids)))
        rng.shuffle(order)  # the same swaps shuffling the entries would make
        items.reset([ids[i] for i in order], [tracks[i] for i in order])
        self._unshuffled = ids
        self.version += 1

    @property
    def unshuffled(self) -> tuple[EntryId, ...] | None:
        """The upcoming order (entry ids) before the last shuffle; ``None``: nothing to undo."""
        kept = self._unshuffled
        return None if kept is None else cast("tuple[EntryId, ...]", tuple(kept))

    def unshuffle(self) -> int:
        """Undo the last shuffle: the entries it shuffled that are still queued go back to their
        order before it, first; entries added since follow in their order. Returns how many
        entries were put back; `InvalidInput` says why when there is nothing to undo."""
        kept = self._unshuffled
        if kept is None:
            raise InvalidInput(
                "There is no shuffle to undo: the queue has not been shuffled since it was last "
                "cleared or unshuffled."
            )
        rank = {entry_id: index for index, entry_id in enumerate(kept)}
        items = self._items
        ids, tracks = items.all_ids(), items.all_tracks()
        known = [k for k in range(len(ids)) if ids[k] in rank]
        if not known:
            self._unshuffled = None
            raise InvalidInput(
                "The shuffle can no longer be undone: none of the tracks it shuffled is still "
                "queued."
            )
        known.sort(key=lambda k: rank[ids[k]])
        order = known + [k for k in range(len(ids)) if ids[k] not in rank]
        items.reset([ids[k] for k in order], [tracks[k] for k in order])
        self._unshuffled = None
        self.version += 1
        return len(known)

    def clear(self) -> int:
        """Remove every upcoming entry; returns how many there were."""
        count = self._items.size
        self._items.reset((), ())
        self._upcoming_ms = 0
        self._unshuffled = None
        self.version += 1
        return count

    def dedupe(self) -> int:
        """Remove upcoming entries whose track (by URI, else source + identifier) came earlier."""
        seen: set[str] = set()
        if self._current is not None:
            seen.add(self._current.track.key)
        ids: list[int] = []
        tracks: list[Track] = []
        for entry_id, track in self._items:
            key = track.key
            if key not in seen:
                seen.add(key)
                ids.append(entry_id)
                tracks.append(track)
        removed = self._items.size - len(tracks)
        self._items.reset(ids, tracks)
        self._upcoming_ms = sum(map(_duration, tracks))
        self.version += 1
        return removed

    # -- snapshot ------------------------------------------------------------------------------

    def snapshot(self, player: PlayerState, now: object) -> QueueSnapshot:
        """Capture the queue and ``player`` (its loop mode taken from the queue) at ``now``."""
        if not isinstance(player, PlayerState):
            raise InvalidInput(
                "snapshot needs a PlayerState, got {kind}.", kind=type(player).__name__
            )
        taken_at = snapshot_seconds("Snapshot time", now)
        items = self._items
        return QueueSnapshot(
            guild_id=self.guild_id,
            version=self.version,
            current=self._current,
            entries=pair_entries(items.all_ids(), items.all_tracks()),
            history=tuple(self._history),
            player=attrs.evolve(player, loop=self._loop),
            next_entry_id=self._next_id,
            taken_at=taken_at,
            unshuffled=self.unshuffled,
        )

    @classmethod
    def restore(
        cls,
        snapshot: QueueSnapshot,
        capacity: SupportsIndex | None = None,
        history_limit: SupportsIndex = 50,
    ) -> GuildQueue:
        """Rebuild a queue from ``snapshot``; entries beyond a smaller capacity are kept."""
        if not isinstance(snapshot, QueueSnapshot):
            raise InvalidSnapshot(f"restore needs a QueueSnapshot, got {type(snapshot).__name__}.")
        everything: Sequence[QueueEntry] = (
            *snapshot.entries,
            *snapshot.history,
            *(() if snapshot.current is None else (snapshot.current,)),
        )
        upcoming_ids = [entry.entry_id for entry in snapshot.entries]
        if len(set(upcoming_ids)) != len(upcoming_ids) or (
            snapshot.current is not None and snapshot.current.entry_id in upcoming_ids
        ):
            raise InvalidSnapshot("Queue snapshot lists the same entry id twice.")
        if any(entry.entry_id >= snapshot.next_entry_id for entry in everything):
            raise InvalidSnapshot("Queue snapshot has an entry id at or above its next entry id.")
        queue = cls(snapshot.guild_id, capacity, history_limit)
        queue._items.reset(upcoming_ids, [entry.track for entry in snapshot.entries])
        queue._upcoming_ms = sum(_duration(entry.track) for entry in snapshot.entries)
        queue._current = snapshot.current
        kept = len(snapshot.history) - queue._history_limit
        queue._history.extend(snapshot.history[max(0, kept) :])
        queue._loop = snapshot.player.loop
        queue._next_id = snapshot.next_entry_id
        if snapshot.unshuffled is not None:
            queue._unshuffled = [int(entry_id) for entry_id in snapshot.unshuffled]
        queue.version = snapshot.version
        return queue
