"""``CoalescingWriter``: queue snapshots written at most once per window per guild.

Queue code calls ``mark_dirty(guild, snapshot_fn)`` after every mutation (cheap, synchronous). The
writer's ``run`` task, started in the caller's task group (``await tg.start(writer.run)``), wakes on
the first dirty mark, takes every dirty guild, calls its ``snapshot_fn`` (so the *latest* state is
written) and saves it; then it sleeps for the window (default **0.25 s**) before the next round. A
burst of mutations inside one window costs one write per guild, and a crash loses at most what was
marked since the last completed round: the mutations of the last window (plus one write's latency).

A failed save keeps the guild dirty (a newer mark wins), is reported through ``on_error`` and the
log, and is retried with exponential backoff. ``flush()`` writes everything now (call it on
shutdown); it raises ``StorageUnavailable`` naming the guilds it could not write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_core.errors import StorageUnavailable, Unavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import QueueStore
from vectobeat_core.queue import QueueSnapshot

__all__ = ["DEFAULT_WINDOW", "CoalescingWriter"]

DEFAULT_WINDOW = 0.25
"""Seconds between two writes of the same guild (the crash-loss bound)."""

_log = logging.getLogger("vectobeat.queue_writer")

SnapshotFn = Callable[[], QueueSnapshot]
_Pending = tuple[SnapshotFn, float | None]


class CoalescingWriter:
    """Coalesces queue mutations into at most one snapshot write per guild per window."""

    def __init__(
        self,
        store: QueueStore,
        *,
        window: float = DEFAULT_WINDOW,
        concurrency: int = 16,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        on_error: Callable[[GuildId, Exception], None] | None = None,
        on_written: Callable[[QueueSnapshot], None] | None = None,
    ) -> None:
        self._store = store
        self.window = window
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._on_error = on_error
        self._on_written = on_written
        self._dirty: dict[GuildId, _Pending] = {}
        self._wake = anyio.Event()
        self._lock = anyio.Lock()
        self._failures = 0

    @property
    def pending(self) -> int:
        """How many guilds wait to be written."""
        return len(self._dirty)

    def mark_dirty(self, guild: GuildId, snapshot_fn: SnapshotFn, ttl: float | None = None) -> None:
        """Schedule ``guild`` for writing; ``snapshot_fn`` is called at write time."""
        self._dirty[guild] = (snapshot_fn, ttl)
        self._wake.set()

    def forget(self, guild: GuildId) -> None:
        """Drop ``guild``'s pending write (its queue now belongs to another process)."""
        self._dirty.pop(guild, None)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Write dirty guilds until cancelled (run it in the app's task group)."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            async with self._lock:
                failed = await self._round()
            if self._dirty:
                self._wake.set()
            if failed:
                self._failures += 1
                delay = self._backoff_base * 2 ** min(self._failures - 1, 16)
                await anyio.sleep(max(self.window, min(delay, self._backoff_cap)))
            else:
                self._failures = 0
                await anyio.sleep(self.window)

    async def flush(self, *, attempts: int = 5) -> None:
        """Write every dirty guild now, retrying failures with backoff; raise if some remain."""
        delay = self._backoff_base
        async with self._lock:
            for attempt in range(attempts):
                if not self._dirty:
                    return
                if attempt:
                    await anyio.sleep(delay)
                    delay = min(delay * 2, self._backoff_cap)
                await self._round()
        if self._dirty:
            guilds = ", ".join(str(guild) for guild in sorted(self._dirty))
            raise StorageUnavailable(
                f"Queue snapshots of guild(s) {guilds} could not be written after {attempts} attempts."
            )

    async def _round(self) -> bool:
        """One pass over the dirty guilds; True if any write failed (those stay dirty)."""
        batch, self._dirty = self._dirty, {}
        failed = False

        async def write(guild: GuildId, pending: _Pending) -> None:
            nonlocal failed
            snapshot_fn, ttl = pending
            async with self._limiter:
                try:
                    snapshot = snapshot_fn()
                    await self._store.save(snapshot, ttl)
                except Unavailable as exc:
                    failed = True
                    self._dirty.setdefault(guild, pending)  # a newer mark wins
                    self._report(guild, exc)
                    return
                except Exception as exc:  # a broken snapshot_fn or foreign data: not retryable
                    self._report(guild, exc)
                    return
            if self._on_written is not None:
                self._on_written(snapshot)

        async with anyio.create_task_group() as tg:
            for guild, pending in batch.items():
                tg.start_soon(write, guild, pending)
        return failed

    def _report(self, guild: GuildId, exc: Exception) -> None:
        _log.warning("queue_snapshot_write_failed guild=%s error=%s", guild, exc)
        if self._on_error is not None:
            self._on_error(guild, exc)
