"""``GenerationWatch``: notice a queue store that lost its data, and have everything rewritten.

Every ``interval`` seconds (default 1 s) it reads ``QueueStore.generation()``; when the token
differs from the last one read (Redis flushed, or restarted empty or from an older dump), it
calls ``on_lost`` (the bot marks every guild it serves dirty, so the writer rewrites them all).
A store that does not answer is skipped quietly: the first answer after an outage is compared
like any other, so a store that came back empty is noticed then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_core.errors import Unavailable
from vectobeat_core.ports import QueueStore

__all__ = ["DEFAULT_GENERATION_INTERVAL", "GenerationWatch"]

DEFAULT_GENERATION_INTERVAL = 1.0

_log = logging.getLogger("vectobeat.queue_generation")


class GenerationWatch:
    """Calls ``on_lost()`` whenever the store's generation changes; counts it in ``resyncs``."""

    def __init__(
        self,
        store: QueueStore,
        on_lost: Callable[[], int],
        *,
        interval: float = DEFAULT_GENERATION_INTERVAL,
    ) -> None:
        self._store = store
        self._on_lost = on_lost
        self.interval = interval
        self.known: str | None = None
        self.resyncs = 0

    async def check(self) -> bool:
        """Read the generation once; True if it changed (and ``on_lost`` ran)."""
        try:
            with anyio.fail_after(max(self.interval, 1.0)):
                current = await self._store.generation()
        except (Unavailable, TimeoutError):
            return False
        changed = self.known is not None and current != self.known
        self.known = current
        if changed:
            guilds = self._on_lost()
            self.resyncs += 1
            _log.warning("queue_store_lost_data rewriting_guilds=%d", guilds)
        return changed

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Check every ``interval`` seconds until cancelled."""
        await self.check()
        task_status.started()
        while True:
            await anyio.sleep(self.interval)
            await self.check()
