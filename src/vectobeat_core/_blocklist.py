"""`BlockList`: a queue's upcoming ``(entry id, track)`` pairs with fast positional access.

Tracks are kept in blocks (lists of at most ``2 * _LOAD``), their ids in parallel 4-byte
``array('I')``\\s. The first and the last block are found directly, so appending at the back and
taking from the front, what a queue mostly does, stay O(1). While every middle block is full (a
queue only added to at the end and taken from at the front), a middle block is found by arithmetic;
otherwise by counting block sizes from the nearer end while there are at most ``_SCAN`` middle
blocks, and above that by a Fenwick tree over their sizes in O(log n). The tree is kept only while
it is needed (keeping it costs every middle insert and removal) and rebuilt when a block is split,
merged or dropped at the front. Taking from the front moves ``head`` forward instead of shifting
the first block; the consumed slots are cut off every ``_COMPACT`` takes. Indexes are 0-based.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from itertools import chain

from vectobeat_core.tracks import Track

__all__ = ["BlockList"]

_LOAD = 512
"""Appends open a new block once the last holds ``_LOAD``; blocks split above ``2 * _LOAD`` and
merge into a neighbour below ``_LOAD // 4``."""
_COMPACT = 64
"""How many consumed slots the first block keeps before they are cut off."""
_SCAN = 32
"""Up to this many middle blocks (about ``_SCAN * _LOAD`` entries) `locate` counts block sizes."""


class BlockList:
    """The upcoming pairs; there is always at least one block, empty only when ``size == 0``."""

    __slots__ = ("full", "head", "ids", "load", "size", "step", "tracks", "tree")

    def __init__(self) -> None:
        self.load = _LOAD
        self.tracks: list[list[Track]] = [[]]
        self.ids: list[array[int]] = [array("I")]
        self.size = 0
        self.head = 0
        """Slots of the first block already taken by `popleft`."""
        self.tree: list[int] = []
        """Fenwick tree, empty with at most ``_SCAN`` middle blocks: node ``b``
        (``1 <= b <= len(blocks) - 2``) stands for block ``b``; it is padded with empty nodes to a
        power of two, so the search needs no bounds check."""
        self.step = 0
        """Half of ``len(tree) - 1``: where the search starts."""
        self.full = True
        """Every middle block holds exactly ``load``: kept by appends and front takes, lost on a
        middle insert or removal, worked out anew by `_rebuild`."""

    # -- index ---------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        load = self.load
        self.full = all(len(block) == load for block in self.tracks[1:-1])
        middle = len(self.tracks) - 2
        if middle <= _SCAN:
            self.tree = []
            return
        step = 1 << (middle - 1).bit_length()
        tree = [0, *map(len, self.tracks[1:-1])]
        tree += [0] * (step + 1 - len(tree))
        size = len(tree)
        for i in range(1, size):
            j = i + (i & -i)
            if j < size:
                tree[j] += tree[i]
        self.tree = tree
        self.step = step >> 1  # the padded root covers every block and is never taken

    def _add(self, node: int, delta: int) -> None:
        """Add ``delta`` to middle block ``node``'s count (``node >= 1``; nothing without a tree)."""
        tree = self.tree
        size = len(tree)
        while node < size:
            tree[node] += delta
            node += node & -node

    def locate(self, index: int) -> tuple[int, int]:
        """The block holding ``index`` and its offset in that block's lists (``0 <= index < size``)."""
        tracks = self.tracks
        head = self.head
        first = len(tracks[0]) - head
        if index < first:
            return 0, index + head
        start = self.size - len(tracks[-1])
        if index >= start:
            return len(tracks) - 1, index - start
        if self.full:
            index -= first
            return index // self.load + 1, index % self.load
        tree = self.tree
        if not tree:
            return self._count(index - first, start - index)
        index -= first
        pos = 0
        step = self.step
        while step:
            nxt = pos + step
            value = tree[nxt]
            if value <= index:
                pos = nxt
                index -= value
            step >>= 1
        return pos + 1, index

    def _count(self, after_first: int, before_last: int) -> tuple[int, int]:
        """`locate` a middle index ``after_first`` entries past the first block and
        ``before_last`` before the last, counting block sizes from the nearer end."""
        tracks = self.tracks
        if after_first < before_last:
            block = 1
            while after_first >= len(tracks[block]):
                after_first -= len(tracks[block])
                block += 1
            return block, after_first
        block = len(tracks) - 2
        while before_last > len(tracks[block]):
            before_last -= len(tracks[block])
            block -= 1
        return block, len(tracks[block]) - before_last

    # -- reads ---------------------------------------------------------------------------------

    def find(self, entry_id: int) -> int | None:
        """The index of ``entry_id`` (a C-speed scan of the id arrays), or ``None``."""
        ids = self.ids
        head = self.head
        try:
            return ids[0].index(entry_id, head) - head
        except ValueError:
            offset = len(ids[0]) - head
        for block in ids[1:]:
            if entry_id in block:
                return offset + block.index(entry_id)
            offset += len(block)
        return None

    def slice(self, start: int, stop: int) -> tuple[list[int], list[Track]]:
        """Ids and tracks at ``start <= index < stop`` (both within ``0..size``)."""
        if start >= stop:
            return [], []
        block, offset = self.locate(start)
        end = offset + stop - start
        tracks = self.tracks[block]
        if end <= len(tracks):  # one block holds them all: a page, usually
            return self.ids[block][offset:end].tolist(), tracks[offset:end]
        ids: list[int] = []
        out: list[Track] = []
        want = stop - start
        while want > 0:
            part = self.tracks[block][offset : offset + want]
            out += part
            ids += self.ids[block][offset : offset + want].tolist()
            want -= len(part)
            block += 1
            offset = 0
        return ids, out

    def __iter__(self) -> Iterator[tuple[int, Track]]:
        head = self.head
        yield from zip(self.ids[0][head:], self.tracks[0][head:], strict=True)
        for ids, tracks in zip(self.ids[1:], self.tracks[1:], strict=True):
            yield from zip(ids, tracks, strict=True)

    def all_ids(self) -> list[int]:
        return list(chain(self.ids[0][self.head :], *self.ids[1:]))

    def all_tracks(self) -> list[Track]:
        return list(chain(self.tracks[0][self.head :], *self.tracks[1:]))

    # -- writes --------------------------------------------------------------------------------

    def reset(self, ids: Iterable[int], tracks: Iterable[Track]) -> None:
        """Replace the contents (ids and tracks of equal length)."""
        flat_ids = array("I", ids)
        flat_tracks = list(tracks)
        load = self.load
        self.tracks = [flat_tracks[i : i + load] for i in range(0, len(flat_tracks), load)] or [[]]
        self.ids = [flat_ids[i : i + load] for i in range(0, len(flat_ids), load)] or [array("I")]
        self.size = len(flat_tracks)
        self.head = 0
        self._rebuild()

    def append(self, entry_id: int, track: Track) -> None:
        tracks = self.tracks
        last = tracks[-1]
        if len(last) < self.load:
            last.append(track)
            self.ids[-1].append(entry_id)
        else:
            tracks.append([track])
            self.ids.append(array("I", (entry_id,)))
            self._grow()
        self.size += 1

    def _grow(self) -> None:
        """A block was added at the back: its left neighbour is a middle block now (unless first),
        full unless an insert grew it while it was last."""
        node = len(self.tracks) - 2
        if node < 1:
            return
        if len(self.tracks[node]) != self.load:
            self.full = False
        if node < len(self.tree):
            self._add(node, len(self.tracks[node]))
        elif node > _SCAN:
            self._rebuild()

    def insert(self, index: int, entry_id: int, track: Track) -> None:
        """Insert before ``index`` (``0 <= index <= size``)."""
        if index == self.size:
            self.append(entry_id, track)
            return
        block, offset = self.locate(index)
        tracks = self.tracks[block]
        tracks.insert(offset, track)
        self.ids[block].insert(offset, entry_id)
        self.size += 1
        if len(tracks) > 2 * self.load:
            self._split(block)  # the rebuild works out `full` anew
        elif 0 < block < len(self.tracks) - 1:
            self.full = False
            self._add(block, 1)

    def popleft(self) -> tuple[int, Track]:
        """Remove and return the first pair (``size > 0``)."""
        head = self.head
        tracks = self.tracks[0]
        track = tracks[head]
        entry_id = self.ids[0][head]
        head += 1
        self.size -= 1
        if head == len(tracks):
            self._drop_first()
        elif head == _COMPACT:
            del tracks[:head], self.ids[0][:head]
            self.head = 0
        else:
            self.head = head
        return entry_id, track

    def pop(self, index: int) -> tuple[int, Track]:
        """Remove and return the pair at ``index`` (``0 <= index < size``)."""
        block, offset = self.locate(index)
        tracks = self.tracks[block]
        track = tracks.pop(offset)
        entry_id = self.ids[block].pop(offset)
        self.size -= 1
        if 0 < block < len(self.tracks) - 1:
            if len(tracks) < self.load >> 2:
                self._merge(block)  # the rebuild works out `full` anew
            else:
                self.full = False
                self._add(block, -1)
        elif not block:
            if len(tracks) == self.head:
                self._drop_first()
        elif not tracks:
            self._drop_last()
        return entry_id, track

    def _compact(self) -> None:
        if self.head:
            del self.tracks[0][: self.head], self.ids[0][: self.head]
            self.head = 0

    def _split(self, block: int) -> None:
        if not block:
            self._compact()
        tracks, ids = self.tracks[block], self.ids[block]
        half = len(tracks) // 2
        self.tracks[block : block + 1] = [tracks[:half], tracks[half:]]
        self.ids[block : block + 1] = [ids[:half], ids[half:]]
        self._rebuild()

    def _merge(self, block: int) -> None:
        """Merge the small middle block ``block`` into its left neighbour (splitting if big)."""
        left = block - 1
        if not left:
            self._compact()
        self.tracks[left] += self.tracks[block]
        self.ids[left] += self.ids[block]
        del self.tracks[block], self.ids[block]
        if len(self.tracks[left]) > 2 * self.load:
            self._split(left)
        else:
            self._rebuild()

    def _drop_first(self) -> None:
        """The first block has nothing left: drop it (or empty it when it is the only one)."""
        self.head = 0
        if len(self.tracks) == 1:
            self.tracks[0] = []
            self.ids[0] = array("I")
            return
        del self.tracks[0], self.ids[0]
        self._rebuild()

    def _drop_last(self) -> None:
        """The last block (not the first) has nothing left; its left neighbour leaves the tree."""
        del self.tracks[-1], self.ids[-1]
        node = len(self.tracks) - 1
        if node:
            self._add(node, -len(self.tracks[node]))
