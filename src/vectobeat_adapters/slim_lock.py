"""`SlimLock`: an ``anyio.Lock`` that exists only while it is held or waited for.

The bot keeps a lock per playing guild in several places (its player session, its Lavalink player,
its settings), and an idle ``anyio.Lock`` costs about 830 bytes (most of it an empty ``deque`` of
waiters): some 3 MiB across 1,000 playing guilds that almost never contend (issue 18: the bot's
memory). A `SlimLock` makes its ``anyio.Lock`` when a task acquires it and lets go of it when the
last holder releases it with nobody waiting; idle, it is one empty slot. While in use it is that
``anyio.Lock``: the same fairness, cancellation and errors.
"""

from __future__ import annotations

from types import TracebackType

import anyio

__all__ = ["SlimLock"]


class SlimLock:
    """A mutual exclusion lock for ``async with`` whose ``anyio.Lock`` lives only while in use."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: anyio.Lock | None = None

    async def __aenter__(self) -> None:
        lock = self._lock
        if lock is None:
            lock = self._lock = anyio.Lock()
        # between here and owning or queueing on it there is no checkpoint (unless the task was
        # cancelled, and then it raises), so a lock let go of below was free and had no waiter
        await lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        lock = self._lock
        if lock is None:  # pragma: no cover - only a task holding it gets here
            raise RuntimeError("The current task is not holding this lock")
        lock.release()  # hands it to the first waiter, if any
        if not lock.locked():
            self._lock = None

    def locked(self) -> bool:
        """Whether a task holds the lock."""
        return self._lock is not None and self._lock.locked()

    @property
    def in_use(self) -> bool:
        """Whether it holds an ``anyio.Lock`` now (held, waited for, or left by a cancelled
        waiter until its next release)."""
        return self._lock is not None
