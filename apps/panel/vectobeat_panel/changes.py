"""The settings change feed behind the bridge's long poll (for bots without Redis), which also
carries erasure notices (`erased`: a confirmed compliance deletion the bots must honour; its
``version`` is the erasure's place in the record). The feed is this process's: the erasure record
itself, which every replica reads, travels with the long poll's answer (`vectobeat_panel.bridge`).

Each saved version is appended with a sequence number; a bot asks for what came after its cursor
and waits up to a timeout when there is nothing yet. A cursor from before the kept window (or from
another panel process) gets ``resync`` so the bot reloads what it holds.
"""

from __future__ import annotations

from collections import deque

import anyio
import attrs

from vectobeat_core.ids import GuildId

__all__ = ["ChangeBatch", "ChangeFeed", "FeedEntry"]


@attrs.frozen
class FeedEntry:
    seq: int
    guild_id: GuildId
    version: int
    erased: bool = False
    erased_at: float | None = None


@attrs.frozen
class ChangeBatch:
    cursor: int
    changes: tuple[FeedEntry, ...]
    resync: bool


class ChangeFeed:
    """An in-process ring of recent settings versions with a wake-up for waiters."""

    def __init__(self, keep: int = 4096) -> None:
        self._entries: deque[FeedEntry] = deque(maxlen=keep)
        self._seen: set[tuple[GuildId, int]] = set()
        self._seq = 0
        self._wake = anyio.Event()
        self._closed = False

    @property
    def cursor(self) -> int:
        return self._seq

    def append(self, guild_id: GuildId, version: int) -> None:
        """Record a new version (a repeat of a (guild, version) already kept is ignored)."""
        key = (guild_id, version)
        if key in self._seen:
            return
        self._push(guild_id, version, erased=False)
        self._seen.add(key)

    def erased(self, guild_id: GuildId, seq: int, erased_at: float | None = None) -> None:
        """The guild is being erased (erasure ``seq`` of the record, run at ``erased_at``): bots
        drop its player, queue and local files (and the guild's versions start again, so its
        seen ones are forgotten)."""
        self._seen = {key for key in self._seen if key[0] != guild_id}
        self._push(guild_id, seq, erased=True, erased_at=erased_at)

    def _push(
        self, guild_id: GuildId, version: int, *, erased: bool, erased_at: float | None = None
    ) -> None:
        if len(self._entries) == self._entries.maxlen:
            dropped = self._entries[0]
            if not dropped.erased:
                self._seen.discard((dropped.guild_id, dropped.version))
        self._seq += 1
        self._entries.append(FeedEntry(self._seq, guild_id, version, erased, erased_at))
        wake, self._wake = self._wake, anyio.Event()
        wake.set()

    def close(self) -> None:
        """The server is stopping: waiting polls answer now (with nothing new) and new ones at once."""
        self._closed = True
        self._wake.set()

    def since(self, cursor: int) -> ChangeBatch:
        oldest = self._entries[0].seq if self._entries else self._seq + 1
        if cursor > self._seq or (cursor < oldest - 1 and self._entries):
            return ChangeBatch(self._seq, (), resync=cursor != 0 or cursor > self._seq)
        changes = tuple(e for e in self._entries if e.seq > cursor)
        return ChangeBatch(self._seq, changes, resync=False)

    async def wait(self, cursor: int, wait_seconds: float) -> ChangeBatch:
        """What came after ``cursor``, waiting up to ``wait_seconds`` for something."""
        batch = self.since(cursor)
        if batch.changes or batch.resync or wait_seconds <= 0 or self._closed:
            return batch
        with anyio.move_on_after(wait_seconds):
            await self._wake.wait()
        return self.since(cursor)
