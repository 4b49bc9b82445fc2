"""``Heartbeat``: a task that ticks every ``interval``; ``/healthz`` judges the age of its last
tick (`vectobeat_core.dependencies.is_alive`), so a stalled event loop reads as not alive."""

from __future__ import annotations

import math

import anyio
import anyio.abc

from vectobeat_core.dependencies import is_alive

__all__ = ["Heartbeat"]


class Heartbeat:
    """Ticks on the event loop; ``alive()`` is false once no tick came for ``max_age`` seconds."""

    def __init__(self, *, interval: float = 0.5, max_age: float = 5.0) -> None:
        self.interval = interval
        self.max_age = max_age
        self._last: float | None = None

    def age(self) -> float:
        """Seconds since the last tick (infinite before the first)."""
        if self._last is None:
            return math.inf
        return max(0.0, anyio.current_time() - self._last)

    def alive(self) -> tuple[bool, str | None]:
        return is_alive(self.age(), self.max_age)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Tick until cancelled; the first tick happens before ``started``."""
        self._last = anyio.current_time()
        task_status.started()
        while True:
            await anyio.sleep(self.interval)
            self._last = anyio.current_time()
