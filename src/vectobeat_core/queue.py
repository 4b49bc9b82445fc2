"""The guild queue: what plays now, what plays next, what played before.

Positions shown to users are 1-based; `PositionOutOfRange` states the valid range. The upcoming
entries live in a `BlockList` (``vectobeat_core._blocklist``), so adding at the end and taking the
next entry cost O(1), and insert / remove / move / jump / lookup at any position O(log n + block).
Every mutation increments ``version``. The values the queue hands out are in
``vectobeat_core.queue_entry`` and its snapshot form in ``vectobeat_core.queue_snapshot``; this
module re-exports them.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

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
from vectobeat_core.ids import GuildId
from vectobeat_core.queue_entry import (
    MAX_ENTRY_ID,
    LoopMode,
    QueueEntry,
    QueuePage,
    make_entries,
    make_entry,
    make_page,
    new_object,
    set_entry_id,
    set_entry_track,
)
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
_TRACK: Final = LoopMode.TRACK
_QUEUE: Final = LoopMode.QUEUE


def _whole(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number, got {value!r}.")
    return value


def _position(what: str, value: object, low: int, high: int) -> int:
    number = _whole(what, value)
    if not low <= number <= high:
        raise PositionOutOfRange(what, number, low, high)
    return number


def _track(value: object) -> Track:
    if not isinstance(value, Track):
        raise InvalidTrack(f"Only tracks can be queued, got {type(value).__name__}.")
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
        "_items",
        "_loop",
        "_next_id",
        "_upcoming_ms",
        "capacity",
        "guild_id",
        "version",
    )

    def __init__(
        self, guild_id: GuildId, capacity: int | None = None, history_limit: int = 50
    ) -> None:
        _whole("Guild id", guild_id)
        if capacity is not None:
            _position("Queue capacity", capacity, 1, MAX_LONG)
        _position("History limit", history_limit, 0, MAX_HISTORY)
        self.guild_id = guild_id
        self.capacity = capacity
        self.version = 0
        self._items = BlockList()
        self._current: QueueEntry | None = None
        self._history: deque[QueueEntry] = deque(maxlen=history_limit)
        self._loop = LoopMode.OFF
        self._next_id = 1
        self._upcoming_ms = 0

    # -- reads ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of upcoming entries (the current one not counted)."""
        return self._items.size

    def __iter__(self) -> Iterator[QueueEntry]:
        """The upcoming entries in play order."""
        for entry_id, track in self._items:
            yield make_entry(entry_id, track)

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
        return self._history.maxlen or 0

    @property
    def next_entry_id(self) -> int:
        return self._next_id

    def at(self, position: int) -> QueueEntry:
        """The upcoming entry at ``position`` (1-based)."""
        items = self._items
        if position.__class__ is not int or not 0 < position <= items.size:
            _position("Position", position, 1, items.size)
        block, offset = items.locate(position - 1)
        entry: QueueEntry = new_object(QueueEntry)
        set_entry_id(entry, items.ids[block][offset])
        set_entry_track(entry, items.tracks[block][offset])
        return entry

    def page(self, page_no: int, per_page: int = 10) -> QueuePage:
        """Page ``page_no`` (1-based) of the upcoming entries; an empty queue has one empty page."""
        if per_page.__class__ is not int or not 0 < per_page <= MAX_PER_PAGE:
            _position("Entries per page", per_page, 1, MAX_PER_PAGE)
        items = self._items
        total = items.size
        pages = -(-total // per_page) or 1
        if page_no.__class__ is not int or not 0 < page_no <= pages:
            _position("Page", page_no, 1, pages)
        start = (page_no - 1) * per_page
        ids, tracks = items.slice(start, min(total, start + per_page))
        return make_page(
            make_entries(ids, tracks),
            page=page_no,
            pages=pages,
            per_page=per_page,
            total=total,
            start=start + 1,
        )

    def total_duration(self) -> int:
        """Milliseconds of the current and upcoming tracks (streams count as 0)."""
        current = 0 if self._current is None else _duration(self._current.track)
        return current + self._upcoming_ms

    def remaining_duration(self, position_ms: int) -> int:
        """Milliseconds left: the rest of the current track from ``position_ms`` plus upcoming."""
        _position("Playback position", position_ms, 0, MAX_LONG)
        current = 0 if self._current is None else _duration(self._current.track)
        return max(0, current - position_ms) + self._upcoming_ms

    # -- adding --------------------------------------------------------------------------------

    def _check_room(self, count: int) -> None:
        if self.capacity is not None and self._items.size + count > self.capacity:
            size = self._items.size
            free = max(0, self.capacity - size)
            noun = "track" if count == 1 else "tracks"
            raise QueueFull(
                f"The queue is full: it holds {size} of {self.capacity} tracks, "
                f"so {count} more {noun} cannot be added ({free} free)."
            )

    def _ids_exhausted(self) -> None:
        raise LimitExceeded(
            f"This queue has handed out all {MAX_ENTRY_ID} entry ids it may; start a new queue."
        )

    def add(self, track: Track, position: int | None = None) -> QueueEntry:
        """Queue ``track`` at the end, or before ``position`` (1..len+1)."""
        if track.__class__ is not Track:
            _track(track)
        items = self._items
        size = items.size
        if position is not None and (position.__class__ is not int or not 0 < position <= size + 1):
            _position("Position", position, 1, size + 1)
        capacity = self.capacity
        if capacity is not None and size >= capacity:
            self._check_room(1)
        entry_id = self._next_id
        if entry_id > MAX_ENTRY_ID:
            self._ids_exhausted()
        self._next_id = entry_id + 1
        if position is None:
            last = items.tracks[-1]
            if len(last) < items.load:  # the common case, inlined: room in the last block
                last.append(track)
                items.ids[-1].append(entry_id)
                items.size = size + 1
            else:
                items.append(entry_id, track)
        else:
            items.insert(position - 1, entry_id, track)
        if not track.is_stream:
            self._upcoming_ms += track.length
        self.version += 1
        entry: QueueEntry = new_object(QueueEntry)  # make_entry, inlined on the hot paths
        set_entry_id(entry, entry_id)
        set_entry_track(entry, track)
        return entry

    def add_many(
        self, tracks: Iterable[Track], position: int | None = None
    ) -> tuple[QueueEntry, ...]:
        """Queue ``tracks`` in order at the end or from ``position``: all of them or none."""
        batch = [_track(track) for track in tracks]
        items = self._items
        index = items.size
        if position is not None:
            index = _position("Position", position, 1, items.size + 1) - 1
        self._check_room(len(batch))
        if not batch:
            return ()
        first = self._next_id
        if first + len(batch) - 1 > MAX_ENTRY_ID:
            self._ids_exhausted()
        new_ids = list(range(first, first + len(batch)))
        self._next_id = first + len(batch)
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
        return make_entries(new_ids, batch)

    # -- playing -------------------------------------------------------------------------------

    def set_loop(self, mode: LoopMode | str) -> None:
        if mode not in LoopMode.__members__.values():
            raise InvalidInput(f"Loop mode must be off, track or queue, got {mode!r}.")
        self._loop = LoopMode(mode)
        self.version += 1

    def _pop(self, index: int) -> QueueEntry:
        entry_id, track = self._items.pop(index)
        if not track.is_stream:
            self._upcoming_ms -= track.length
        return make_entry(entry_id, track)

    def _popleft(self) -> QueueEntry:
        entry_id, track = self._items.popleft()
        if not track.is_stream:
            self._upcoming_ms -= track.length
        return make_entry(entry_id, track)

    def _retire(self, entry: QueueEntry) -> None:
        """An entry stops playing: into history, and back to the end when looping the queue."""
        self._history.append(entry)
        if self._loop is _QUEUE:
            track = entry.track
            self._items.append(entry.entry_id, track)
            if not track.is_stream:
                self._upcoming_ms += track.length

    def next(self) -> QueueEntry | None:
        """The current track ended: the entry to play now (``None`` when nothing is left).

        Loop ``track`` repeats the current entry; loop ``queue`` sends it back to the end.
        """
        current = self._current
        items = self._items
        if current is not None:
            if self._loop is _TRACK:
                return current
            self._retire(current)
        elif not items.size:
            return None
        following: QueueEntry | None = None
        if items.size:
            entry_id, track = items.popleft()
            if not track.is_stream:
                self._upcoming_ms -= track.length
            following = new_object(QueueEntry)
            set_entry_id(following, entry_id)
            set_entry_track(following, track)
        self._current = following
        self.version += 1
        return following

    def skip(self, count: int = 1) -> QueueEntry | None:
        """Skip the current entry and the next ``count - 1``; returns the new current entry."""
        if self._current is None and not self._items.size:
            raise QueueEmpty("Nothing is playing and the queue is empty.")
        _position("Skip count", count, 1, max(1, self._items.size))
        if self._current is not None:
            self._retire(self._current)
        for _ in range(count - 1):
            self._retire(self._popleft())
        self._current = self._popleft() if self._items.size else None
        self.version += 1
        return self._current

    def jump(self, position: int) -> QueueEntry:
        """Play the entry at ``position`` now; the entries before it stay queued."""
        if position.__class__ is not int or not 0 < position <= self._items.size:
            _position("Position", position, 1, self._items.size)
        entry = self._pop(position - 1)
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
        self._history.append(self._current)
        self._current = None
        self.version += 1

    # -- editing -------------------------------------------------------------------------------

    def remove(self, position: int) -> QueueEntry:
        """Remove and return the upcoming entry at ``position``."""
        items = self._items
        if position.__class__ is not int or not 0 < position <= items.size:
            _position("Position", position, 1, items.size)
        entry_id, track = items.pop(position - 1)
        if not track.is_stream:
            self._upcoming_ms -= track.length
        self.version += 1
        entry: QueueEntry = new_object(QueueEntry)
        set_entry_id(entry, entry_id)
        set_entry_track(entry, track)
        return entry

    def remove_range(self, start: int, end: int) -> tuple[QueueEntry, ...]:
        """Remove the upcoming entries ``start..end`` (inclusive)."""
        items = self._items
        size = items.size
        _position("Start position", start, 1, size)
        _position("End position", end, 1, size)
        if end < start:
            raise InvalidInput(f"The range {start}-{end} is backwards: start must not pass end.")
        if end - start < 32:
            removed = tuple(self._pop(start - 1) for _ in range(end - start + 1))
        else:
            ids, tracks = items.all_ids(), items.all_tracks()
            removed = make_entries(ids[start - 1 : end], tracks[start - 1 : end])
            del ids[start - 1 : end], tracks[start - 1 : end]
            items.reset(ids, tracks)
            self._upcoming_ms -= sum(_duration(entry.track) for entry in removed)
        self.version += 1
        return removed

    def move(self, source: int, target: int) -> QueueEntry:
        """Move the entry at ``source`` so that it ends up at ``target``."""
        items = self._items
        size = items.size
        if source.__class__ is not int or not 0 < source <= size:
            _position("Source position", source, 1, size)
        if target.__class__ is not int or not 0 < target <= size:
            _position("Target position", target, 1, size)
        entry_id, track = items.pop(source - 1)
        items.insert(target - 1, entry_id, track)
        self.version += 1
        entry: QueueEntry = new_object(QueueEntry)
        set_entry_id(entry, entry_id)
        set_entry_track(entry, track)
        return entry

    def shuffle(self, seed: int) -> None:
        """Shuffle the upcoming entries (the current entry never moves); same seed, same order."""
        _whole("Shuffle seed", seed)
        items = self._items
        ids, tracks = items.all_ids(), items.all_tracks()
        order = list(range(len(ids)))
        random.Random(seed).shuffle(order)  # the same swaps shuffling the entries would make
        items.reset(map(ids.__getitem__, order), map(tracks.__getitem__, order))
        self.version += 1

    def clear(self) -> int:
        """Remove every upcoming entry; returns how many there were."""
        count = self._items.size
        self._items.reset((), ())
        self._upcoming_ms = 0
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

    def snapshot(self, player: PlayerState, now: float) -> QueueSnapshot:
        """Capture the queue and ``player`` (its loop mode taken from the queue) at ``now``."""
        if not isinstance(player, PlayerState):
            raise InvalidInput(f"snapshot needs a PlayerState, got {type(player).__name__}.")
        taken_at = snapshot_seconds("Snapshot time", now)
        items = self._items
        return QueueSnapshot(
            guild_id=self.guild_id,
            version=self.version,
            current=self._current,
            entries=make_entries(items.all_ids(), items.all_tracks()),
            history=tuple(self._history),
            player=attrs.evolve(player, loop=self._loop),
            next_entry_id=self._next_id,
            taken_at=taken_at,
        )

    @classmethod
    def restore(
        cls, snapshot: QueueSnapshot, capacity: int | None = None, history_limit: int = 50
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
        queue._items.reset(upcoming_ids, (entry.track for entry in snapshot.entries))
        queue._upcoming_ms = sum(_duration(entry.track) for entry in snapshot.entries)
        queue._current = snapshot.current
        queue._history.extend(snapshot.history)
        queue._loop = snapshot.player.loop
        queue._next_id = snapshot.next_entry_id
        queue.version = snapshot.version
        return queue
