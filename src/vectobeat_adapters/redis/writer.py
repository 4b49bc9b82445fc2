"""``CoalescingWriter``: group-committed queue snapshots, and a wait for "this change is durable".

Queue code calls ``mark_dirty(guild, snapshot_fn)`` after every mutation (cheap, synchronous) and,
before acknowledging the change, ``await durable(guild)``: it returns once a write that *started
after* the guild's last mark has completed. The writer's ``run`` task (``await tg.start(writer.run)``)
starts a round at once when idle: it takes every dirty guild, calls its ``snapshot_fn`` (so the
*latest* state is written) and saves it. Marks arriving while a round is in flight are grouped into
the next round, which starts as soon as the current one ends: a group commit, one write per guild
however many changes it holds. (``window`` > 0 makes a finished round linger that long first,
for more grouping, unless somebody waits for durability.)

When a save fails as unavailable or takes longer than ``write_timeout`` (default **1.5 s**, so a
reply still fits Discord's 3 s), the store counts as down and, with a ``QueueJournal``, the snapshot
goes to the local journal instead: that is durable too (``Durability.JOURNALED``). While the store
is down, or while a guild still has a journal entry, its writes go to the journal (so the order of
a guild's snapshots is kept). A recovery task probes ``store.ping()`` with the equal-jitter
back-off (`vectobeat_adapters.retrying`) and, once the store answers, replays the journal (``replay_journal``, also called at start
before queues are restored): the latest entry per guild, in sequence order, skipped when the store
holds a later snapshot, and removed from the journal only after the store took it.

Without a journal a failed save keeps the guild dirty (a newer mark wins), is reported through
``on_error`` and the log, and is retried with exponential back-off (``backoff_base`` doubling up
to ``backoff_cap``, no jitter); its waiters get
``Durability.NOT_SAVED`` when their timeout ends. ``flush()`` writes everything now (call it on
shutdown); it raises ``StorageUnavailable`` naming the guilds it could not save anywhere.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
import anyio.abc
import tenacity

from vectobeat_adapters.queue_journal import JournalEntry, QueueJournal
from vectobeat_adapters.retrying import BackoffWait, failure, supervise
from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.durability import Durability, replay_order, store_is_newer
from vectobeat_core.errors import InvalidSnapshot, StorageUnavailable, Unavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import QueueStore
from vectobeat_core.queue import QueueSnapshot

__all__ = [
    "DEFAULT_ACK_TIMEOUT",
    "DEFAULT_WINDOW",
    "DEFAULT_WRITE_TIMEOUT",
    "CoalescingWriter",
]

DEFAULT_WINDOW = 0.0
"""Seconds a finished round lingers before the next when nobody waits for durability (0: the
next round starts as soon as something is dirty; marks made during a round are grouped anyway)."""

DEFAULT_WRITE_TIMEOUT = 1.5
"""Seconds a store write may take before the store counts as down (and the journal takes it)."""

DEFAULT_ACK_TIMEOUT = 2.0
"""Seconds ``durable`` waits before answering ``NOT_SAVED`` (a reply must leave within Discord's 3 s;
a write the store does not confirm within ``DEFAULT_WRITE_TIMEOUT`` is journaled well before)."""

_REPLAY_CHUNK = 64

_log = logging.getLogger("vectobeat.queue_writer")

SnapshotFn = Callable[[], QueueSnapshot]
_Pending = tuple[SnapshotFn, float | None, int]  # snapshot_fn, ttl, mark sequence


class CoalescingWriter:
    """Group-commits queue snapshots and tells callers when their change is durable."""

    def __init__(
        self,
        store: QueueStore,
        *,
        window: float = DEFAULT_WINDOW,
        concurrency: int = 16,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
        ack_timeout: float = DEFAULT_ACK_TIMEOUT,
        journal: QueueJournal | None = None,
        on_error: Callable[[GuildId, Exception], None] | None = None,
        on_written: Callable[[QueueSnapshot], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self.window = window
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._retry_wait = BackoffWait(ExponentialBackoff.clamped(backoff_base, backoff_cap, 0.0))
        self._probe_wait = BackoffWait(
            ExponentialBackoff.clamped(backoff_base, backoff_cap), jitter
        )
        self._write_timeout = write_timeout
        self.ack_timeout = ack_timeout
        self._journal = journal
        self._on_error = on_error
        self._on_written = on_written
        self._dirty: dict[GuildId, _Pending] = {}
        self._seq = 0
        self._marked: dict[GuildId, int] = {}
        self._done: dict[GuildId, tuple[int, Durability]] = {}
        self._journaled: set[GuildId] = set()
        self._unerased: set[GuildId] = set()
        """Erased guilds whose journal entries could not be deleted yet: never replayed."""
        self._wake = anyio.Event()
        self._urgent = anyio.Event()
        self._progress = anyio.Event()
        self._down = anyio.Event()
        self._lock = anyio.Lock()
        self._waiters = 0
        self.store_down = False
        self.replayed = 0

    @property
    def pending(self) -> int:
        """How many guilds wait to be written."""
        return len(self._dirty)

    @property
    def journaled(self) -> int:
        """How many guilds have a journal entry the store has not confirmed yet."""
        return len(self._journaled)

    def mark_dirty(self, guild: GuildId, snapshot_fn: SnapshotFn, ttl: float | None = None) -> int:
        """Schedule ``guild`` for writing (``snapshot_fn`` is called at write time); returns the
        mark's sequence number."""
        self._seq += 1
        self._marked[guild] = self._seq
        self._dirty[guild] = (snapshot_fn, ttl, self._seq)
        self._wake.set()
        return self._seq

    def forget(self, guild: GuildId) -> None:
        """Drop ``guild``'s pending write (its queue now belongs to another process)."""
        self._dirty.pop(guild, None)
        self._marked.pop(guild, None)
        self._done.pop(guild, None)

    async def erase(self, guild: GuildId) -> int:
        """Right to erasure: once the round in flight is done (nothing of the guild is being
        written), drop its pending write and its journal entries (how many); its later writes go
        to the store again. ``StorageUnavailable`` if the journal fails (the write is dropped,
        and the guild's entries are neither replayed nor restored until an erase succeeds)."""
        async with self._lock:
            try:
                self._journaled.discard(guild)
                removed = 0 if self._journal is None else await self._journal.remove_guild(guild)
            except StorageUnavailable:
                self._unerased.add(guild)
                raise
            finally:
                self.forget(guild)
            self._unerased.discard(guild)
            return removed

    async def durable(self, guild: GuildId, *, timeout: float | None = None) -> Durability:  # noqa: ASYNC109 - the caller's reply deadline
        """Wait until every change marked for ``guild`` so far is stored or journaled.

        Returns how it was saved, or ``NOT_SAVED`` if that did not happen within ``timeout``
        seconds (default ``ack_timeout``) or the snapshot could not be written anywhere."""
        target = self._marked.get(guild)
        if target is None:
            return Durability.STORED  # nothing marked: nothing to wait for
        self._waiters += 1
        try:
            with anyio.move_on_after(self.ack_timeout if timeout is None else timeout):
                while True:
                    done = self._done.get(guild)
                    if done is not None and done[0] >= target:
                        return done[1]
                    self._urgent.set()
                    await self._progress.wait()
        finally:
            self._waiters -= 1
        return Durability.NOT_SAVED

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Write dirty guilds and recover from store outages until cancelled: after a round with
        a failed write the next waits by the back-off (at least ``window``)."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._recover)
            task_status.started()
            await supervise(
                self._next_round,
                retry=tenacity.retry_if_result(lambda clean: not clean),
                wait=lambda state: max(self.window, self._retry_wait(state)),
                idle=self._linger,
            )

    async def _next_round(self) -> bool:
        """Once a guild is dirty, write a round; False when a write failed."""
        await self._wake.wait()
        self._wake = anyio.Event()
        async with self._lock:
            failed = await self._round()
        if self._dirty:
            self._wake.set()
        return not failed

    async def _linger(self) -> None:
        """After a clean round, wait up to ``window`` for more marks unless somebody waits."""
        if self.window > 0 and not self._waiters:
            self._urgent = anyio.Event()  # a waiter arriving cuts the linger short
            with anyio.move_on_after(self.window):
                await self._urgent.wait()

    async def flush(self, *, attempts: int = 5) -> None:
        """Write every dirty guild now, retrying failures with backoff; raise if some remain."""

        async def write_dirty() -> None:
            if self._dirty:
                await self._round()

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(lambda _written: bool(self._dirty)),
            stop=tenacity.stop_after_attempt(attempts),
            wait=self._retry_wait,
            sleep=anyio.sleep,
            retry_error_callback=lambda _state: None,  # still dirty: said below
        )
        if attempts > 0:
            async with self._lock:
                await retrying(write_dirty)
        if self._dirty:
            guilds = ", ".join(str(guild) for guild in sorted(self._dirty))
            raise StorageUnavailable(
                f"Queue snapshots of guild(s) {guilds} could not be written after {attempts} attempts."
            )

    # -- writing -------------------------------------------------------------------------------

    async def _round(self) -> bool:
        """One pass over the dirty guilds; True if any write failed (those stay dirty)."""
        batch, self._dirty = self._dirty, {}
        failed = False

        async def write(guild: GuildId, pending: _Pending) -> None:
            nonlocal failed
            snapshot_fn, ttl, seq = pending
            async with self._limiter:
                try:
                    snapshot = snapshot_fn()
                    how = await self._persist(snapshot, ttl)
                except Unavailable as exc:
                    failed = True
                    self._dirty.setdefault(guild, pending)  # a newer mark wins
                    self._report(guild, exc)
                    return
                except Exception as exc:  # a broken snapshot_fn or foreign data: not retryable
                    self._report(guild, exc)
                    self._settle(guild, seq, Durability.NOT_SAVED)
                    return
            self._settle(guild, seq, how)
            if how is Durability.STORED and self._on_written is not None:
                self._on_written(snapshot)

        async with anyio.create_task_group() as tg:
            for guild, pending in batch.items():
                tg.start_soon(write, guild, pending)
        return failed

    async def _persist(self, snapshot: QueueSnapshot, ttl: float | None) -> Durability:
        """Save to the store, or to the journal while the store is down (or the guild's older
        snapshot still waits there)."""
        guild = snapshot.guild_id
        if self._journal is not None and (self.store_down or guild in self._journaled):
            await self._journal_put(self._journal, snapshot, ttl)
            return Durability.JOURNALED
        try:
            await self._save(snapshot, ttl)
        except Unavailable as exc:
            if self._journal is None:
                raise
            self.note_store_down(exc)
            await self._journal_put(self._journal, snapshot, ttl)
            return Durability.JOURNALED
        return Durability.STORED

    async def _save(self, snapshot: QueueSnapshot, ttl: float | None) -> None:
        """``store.save`` bounded by ``write_timeout`` (a timeout is ``StorageUnavailable``)."""
        with self._bounded(f"confirm guild {snapshot.guild_id}'s snapshot"):
            await self._store.save(snapshot, ttl)

    @contextmanager
    def _bounded(self, what: str) -> Iterator[None]:
        """Fail the block with ``StorageUnavailable`` after ``write_timeout`` seconds."""
        try:
            with anyio.fail_after(self._write_timeout):
                yield
        except TimeoutError:
            raise StorageUnavailable(
                f"The queue store did not {what} within {self._write_timeout:g} s."
            ) from None

    async def _journal_put(
        self, journal: QueueJournal, snapshot: QueueSnapshot, ttl: float | None
    ) -> None:
        await journal.put(snapshot, ttl)
        self._journaled.add(snapshot.guild_id)
        self._down.set()

    def _settle(self, guild: GuildId, seq: int, how: Durability) -> None:
        done = self._done.get(guild)
        if done is None or seq >= done[0]:
            self._done[guild] = (seq, how)
        self._progress.set()
        self._progress = anyio.Event()

    def note_store_down(self, exc: Exception) -> None:
        """The store failed: journal every write and probe it until the journal is replayed."""
        if not self.store_down:
            _log.warning("queue_store_down journaling=%s error=%s", self._journal is not None, exc)
        self.store_down = True
        self._down.set()

    def _report(self, guild: GuildId, exc: Exception) -> None:
        _log.warning("queue_snapshot_write_failed guild=%s error=%s", guild, exc)
        if self._on_error is not None:
            self._on_error(guild, exc)

    # -- recovery ------------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Whenever the store went down or the journal holds entries: probe the store with
        jittered backoff and replay the journal once it answers."""
        while True:
            await self._down.wait()
            await self._probe_until_replayed()
            self._down = anyio.Event()
            if self.store_down or self._journaled:
                self._down.set()  # went down again while replaying
            self._wake.set()  # guilds that stayed dirty meanwhile

    async def _probe_until_replayed(self) -> None:
        """Ping the store with jittered backoff until it answers and the journal is replayed."""

        async def probe_and_replay() -> None:
            with self._bounded("answer a ping"):
                await self._store.ping()
            await self.replay_journal()

        def log_failure(state: tenacity.RetryCallState) -> None:
            _log.info("queue_store_probe_failed error=%s", failure(state))

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Unavailable),
            stop=tenacity.stop_never,
            wait=self._probe_wait,
            sleep=anyio.sleep,
            before_sleep=log_failure,
        )
        await retrying(probe_and_replay)

    async def journaled_snapshots(self) -> list[JournalEntry]:
        """The journal's latest entry per guild (what a restore must prefer over an older stored
        snapshot while the store is down); empty without a journal."""
        if self._journal is None:
            return []
        return self._kept(await self._journal.entries())

    def _kept(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        """``entries`` in replay order, without those of guilds not erased yet."""
        return [e for e in replay_order(entries) if e.guild_id not in self._unerased]

    async def replay_journal(self) -> int:
        """Write the journal into the store (see the module docstring); returns how many entries
        it replayed. Raises ``StorageUnavailable`` if the store fails (the rest stays journaled)."""
        journal = self._journal
        if journal is None:
            return 0
        replayed = 0
        while True:
            async with self._lock:  # no round runs while the guilds with an entry are listed
                entries = self._kept(await journal.entries())
                self._journaled = {entry.guild_id for entry in entries}
                self.store_down = False  # guilds without an entry write to the store again
            for problem in journal.problems:
                _log.error("queue_journal_unreadable %s", problem)
            if not entries:
                return replayed
            done = 0
            for start in range(0, len(entries), _REPLAY_CHUNK):
                async with self._lock:
                    for entry in entries[start : start + _REPLAY_CHUNK]:
                        try:
                            done += await self._replay_one(journal, entry)
                        except Unavailable as exc:
                            self.note_store_down(exc)
                            raise
            replayed += done
            self.replayed += done
            _log.info("queue_journal_replayed entries=%d", done)

    async def _replay_one(self, journal: QueueJournal, entry: JournalEntry) -> int:
        guild = entry.guild_id
        try:
            with self._bounded(f"return guild {guild}'s snapshot"):
                stored = await self._store.load(guild)
        except InvalidSnapshot:
            stored = None  # unreadable: the journaled snapshot replaces it (or save refuses)
        written = 0
        if not store_is_newer(entry, None if stored is None else stored.taken_at):
            try:
                await self._save(entry.snapshot, entry.ttl)
                written = 1
            except InvalidSnapshot as exc:  # foreign data at the key: like a live write, dropped
                self._report(guild, exc)
        if await journal.remove(guild, entry.seq):
            self._journaled.discard(guild)
        return written
