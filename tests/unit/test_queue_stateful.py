"""GuildQueue against a plain-list model over many random operation sequences."""

from __future__ import annotations

import random

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import vectobeat_core._blocklist as blocklist_module
from tests.strategies.tracks import player_states, tracks
from vectobeat_core.errors import InvalidInput, PositionOutOfRange, QueueEmpty, QueueFull
from vectobeat_core.ids import EntryId, GuildId
from vectobeat_core.queue import GuildQueue, LoopMode, PlayerState, QueueEntry, QueueSnapshot
from vectobeat_core.tracks import Track

# Small blocks so that splits, merges, compaction, counting and the Fenwick search (past two middle
# blocks) run on short sequences.
SMALL_LOAD = 4
SMALL_COMPACT = 3
SMALL_SCAN = 2
Pair = tuple[int, Track]
track_pool = st.lists(tracks(encoded=False, short=True), min_size=1, max_size=10)


class Model:
    """The obvious list implementation of the queue's rules."""

    def __init__(self, capacity: int | None, history_limit: int) -> None:
        self.capacity = capacity
        self.history_limit = history_limit
        self.items: list[Pair] = []
        self.current: Pair | None = None
        self.history: list[Pair] = []
        self.loop = LoopMode.OFF
        self.next_id = 1
        self.version = 0
        self.unshuffled: list[int] | None = None

    def retire(self, pair: Pair) -> None:
        self.history.append(pair)
        del self.history[: max(0, len(self.history) - self.history_limit)]
        if self.loop is LoopMode.QUEUE:
            self.items.append(pair)

    def advance(self, skipped: int) -> None:
        if self.current is not None:
            self.retire(self.current)
        for _ in range(skipped):
            self.retire(self.items.pop(0))
        self.current = self.items.pop(0) if self.items else None
        self.version += 1


def entry(pair: Pair | None) -> QueueEntry | None:
    return None if pair is None else QueueEntry(EntryId(pair[0]), pair[1])


def duration(track: Track) -> int:
    return 0 if track.is_stream else track.length


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.queue = GuildQueue(GuildId(1), capacity=40, history_limit=5)
        self.model = Model(40, 5)

    def _expect_range(self, low: int, high: int, value: int) -> bool:
        return low <= value <= high

    @rule(
        batch=track_pool,
        position=st.none() | st.integers(1, 20) | st.integers(1, 45),
        many=st.booleans(),
    )
    def add(self, batch: list[Track], position: int | None, many: bool) -> None:
        m = self.model
        if not many:
            batch = batch[:1]
        fits = m.capacity is None or len(m.items) + len(batch) <= m.capacity
        in_range = position is None or position <= len(m.items) + 1
        if not in_range:
            with pytest.raises(PositionOutOfRange):
                self._add(batch, position, many)
            return
        if not fits:
            with pytest.raises(QueueFull, match="queue is full"):
                self._add(batch, position, many)
            return
        added = self._add(batch, position, many)
        index = len(m.items) if position is None else position - 1
        pairs = [(m.next_id + i, track) for i, track in enumerate(batch)]
        m.next_id += len(batch)
        m.items[index:index] = pairs
        m.version += 1
        assert [(e.entry_id, e.track) for e in added] == pairs

    def _add(self, batch: list[Track], position: int | None, many: bool) -> list[QueueEntry]:
        if many:
            return list(self.queue.add_many(batch, position))
        return [self.queue.add(batch[0], position)]

    @rule()
    def next(self) -> None:
        m = self.model
        got = self.queue.next()
        if m.loop is LoopMode.TRACK and m.current is not None:
            pass
        elif m.current is not None or m.items:
            m.advance(0)
        assert got == entry(m.current)

    @rule(count=st.integers(1, 4))
    def skip(self, count: int) -> None:
        m = self.model
        if m.current is None and not m.items:
            with pytest.raises(QueueEmpty):
                self.queue.skip(count)
            return
        if count > max(1, len(m.items)):
            with pytest.raises(PositionOutOfRange):
                self.queue.skip(count)
            return
        got = self.queue.skip(count)
        m.advance(count - 1)
        assert got == entry(m.current)

    @rule(position=st.integers(1, 8))
    def jump(self, position: int) -> None:
        m = self.model
        if position > len(m.items):
            with pytest.raises(PositionOutOfRange):
                self.queue.jump(position)
            return
        got = self.queue.jump(position)
        pair = m.items.pop(position - 1)
        if m.current is not None:
            m.retire(m.current)
        m.current = pair
        m.version += 1
        assert got == entry(pair)

    @rule()
    def previous(self) -> None:
        m = self.model
        if not m.history:
            with pytest.raises(QueueEmpty):
                self.queue.previous()
            return
        got = self.queue.previous()
        pair = m.history.pop()
        if m.current is None or m.current[0] != pair[0]:
            m.items = [p for p in m.items if p[0] != pair[0]]
            if m.current is not None:
                m.items.insert(0, m.current)
            m.current = pair
        m.version += 1
        assert got == entry(pair)

    @rule()
    def stop(self) -> None:
        m = self.model
        if m.current is None:
            with pytest.raises(QueueEmpty):
                self.queue.stop()
            return
        self.queue.stop()
        m.history.append(m.current)
        del m.history[: max(0, len(m.history) - m.history_limit)]
        m.current = None
        m.version += 1

    @rule(position=st.integers(1, 45))
    def remove(self, position: int) -> None:
        m = self.model
        if position > len(m.items):
            with pytest.raises(PositionOutOfRange, match="out of range"):
                self.queue.remove(position)
            return
        assert self.queue.remove(position) == entry(m.items.pop(position - 1))
        m.version += 1

    @rule(start=st.integers(1, 45), span=st.integers(0, 40))
    def remove_range(self, start: int, span: int) -> None:
        m = self.model
        end = start + span
        if end > len(m.items):
            with pytest.raises(PositionOutOfRange):
                self.queue.remove_range(start, end)
            return
        got = self.queue.remove_range(start, end)
        assert list(got) == [entry(p) for p in m.items[start - 1 : end]]
        del m.items[start - 1 : end]
        m.version += 1

    @rule(source=st.integers(1, 45), dest=st.integers(1, 45))
    def move(self, source: int, dest: int) -> None:
        m = self.model
        if max(source, dest) > len(m.items):
            with pytest.raises(PositionOutOfRange):
                self.queue.move(source, dest)
            return
        self.queue.move(source, dest)
        m.items.insert(dest - 1, m.items.pop(source - 1))
        m.version += 1

    @rule(seed=st.integers(0, 2**32))
    def shuffle(self, seed: int) -> None:
        m = self.model
        self.queue.shuffle(seed)
        m.unshuffled = [entry_id for entry_id, _ in m.items]
        random.Random(seed).shuffle(m.items)
        m.version += 1

    @rule()
    def unshuffle(self) -> None:
        m = self.model
        if m.unshuffled is None:
            with pytest.raises(InvalidInput, match="no shuffle to undo"):
                self.queue.unshuffle()
            return
        rank = {entry_id: index for index, entry_id in enumerate(m.unshuffled)}
        known = sorted((p for p in m.items if p[0] in rank), key=lambda p: rank[p[0]])
        m.unshuffled = None
        if not known:
            with pytest.raises(InvalidInput, match="no longer be undone"):
                self.queue.unshuffle()
            return
        assert self.queue.unshuffle() == len(known)
        m.items = known + [p for p in m.items if p[0] not in rank]
        m.version += 1

    @precondition(lambda self: len(self.model.items) < 30)
    @rule()
    def clear_sometimes(self) -> None:
        m = self.model
        assert self.queue.clear() == len(m.items)
        m.items.clear()
        m.unshuffled = None
        m.version += 1

    @rule()
    def dedupe(self) -> None:
        m = self.model
        seen = set() if m.current is None else {m.current[1].key}
        kept = []
        for pair in m.items:
            if pair[1].key not in seen:
                seen.add(pair[1].key)
                kept.append(pair)
        assert self.queue.dedupe() == len(m.items) - len(kept)
        m.items = kept
        m.version += 1

    @rule(mode=st.sampled_from(list(LoopMode)))
    def set_loop(self, mode: LoopMode) -> None:
        self.queue.set_loop(mode)
        self.model.loop = mode
        self.model.version += 1

    @rule(player=player_states, now=st.floats(0, 4e9))
    def snapshot_restore(self, player: PlayerState, now: float) -> None:
        snap = self.queue.snapshot(player, now)
        again = QueueSnapshot.from_json(snap.to_json())
        assert again == snap
        restored = GuildQueue.restore(again, capacity=40, history_limit=5)
        assert restored.snapshot(player, now) == snap
        self.queue = restored

    @rule(page=st.integers(1, 6), per_page=st.integers(1, 12))
    def page(self, page: int, per_page: int) -> None:
        m = self.model
        pages = max(1, -(-len(m.items) // per_page))
        if page > pages:
            with pytest.raises(PositionOutOfRange):
                self.queue.page(page, per_page)
            return
        got = self.queue.page(page, per_page)
        start = (page - 1) * per_page
        assert list(got.items) == [entry(p) for p in m.items[start : start + per_page]]
        assert got.tracks == tuple(t for _, t in m.items[start : start + per_page])
        assert (got.pages, got.total, got.start) == (pages, len(m.items), start + 1)

    @invariant()
    def agrees(self) -> None:
        m, q = self.model, self.queue
        patched = (blocklist_module._LOAD, blocklist_module._COMPACT, blocklist_module._SCAN)
        assert patched == (SMALL_LOAD, SMALL_COMPACT, SMALL_SCAN)
        event(f"upcoming >= {len(m.items) // 10 * 10}")
        assert len(q) == len(m.items)
        assert list(q) == [entry(p) for p in m.items]
        assert q.current == entry(m.current)
        assert q.history == tuple(entry(p) for p in m.history)
        assert q.loop is m.loop
        assert q.version == m.version
        assert q.next_entry_id == m.next_id
        assert q.unshuffled == (None if m.unshuffled is None else tuple(m.unshuffled))
        playing = [p[0] for p in m.items] + ([] if m.current is None else [m.current[0]])
        assert len(set(playing)) == len(playing)
        upcoming = sum(duration(t) for _, t in m.items)
        current = 0 if m.current is None else duration(m.current[1])
        assert q.total_duration() == upcoming + current
        if m.items:
            assert q.at(len(m.items)) == entry(m.items[-1])
            middle = (len(m.items) + 1) // 2
            assert q.at(middle) == entry(m.items[middle - 1])


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vectobeat_core._blocklist._LOAD", SMALL_LOAD)
    monkeypatch.setattr("vectobeat_core._blocklist._COMPACT", SMALL_COMPACT)
    monkeypatch.setattr("vectobeat_core._blocklist._SCAN", SMALL_SCAN)


QueueMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50)
TestQueueMachine = QueueMachine.TestCase
