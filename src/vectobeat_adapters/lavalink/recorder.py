"""`OffPathRecorder`: health records and audit events written beside failover, never in its way.

The cluster decides from what it sees on sockets and probes; the stores only keep a record of it.
So nothing on the health or failover path awaits Redis or SQL: `health` and `audit` queue the
write and return at once, and `run` (a task of the cluster) writes them, each write bounded by
``write_timeout_s``. Health records and audit events go to different stores and are written by
two independent loops, so a stalled health store (Redis blackholed) never holds back the audit
log, nor the other way round. For health only the newest record per node matters (older ones are
replaced while they wait); audit events are kept in order, up to ``max_pending`` (the oldest are
dropped and counted past that, as a store that stays down must not grow memory without bound).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable

import anyio

from vectobeat_core.audit import AuditEvent
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.health import NodeHealth
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import AuditLog, HealthStore

__all__ = ["OffPathRecorder"]

_log = logging.getLogger("vectobeat.lavalink.recorder")


class OffPathRecorder:
    """Queues health records and audit events; `run` writes them with bounded waits."""

    def __init__(
        self,
        health_store: HealthStore,
        audit: AuditLog,
        *,
        health_ttl_s: float,
        write_timeout_s: float = 2.0,
        max_pending: int = 10_000,
    ) -> None:
        self._health_store = health_store
        self._audit = audit
        self._ttl = health_ttl_s
        self._timeout = write_timeout_s
        self._health: dict[NodeName, NodeHealth] = {}
        self._events: collections.deque[AuditEvent] = collections.deque(maxlen=max_pending)
        self._health_wake = anyio.Event()
        self._audit_wake = anyio.Event()
        self.dropped = 0
        """Audit events dropped because the store was away too long."""
        self.failures = 0
        """Writes that failed or timed out."""

    @property
    def pending(self) -> int:
        return len(self._health) + len(self._events)

    def health(self, health: NodeHealth) -> None:
        """Record ``health`` soon (a newer record of the same node replaces it)."""
        self._health[health.node] = health
        self._health_wake.set()

    def audit(self, event: AuditEvent) -> None:
        """Append ``event`` to the audit log soon, in order."""
        if len(self._events) == self._events.maxlen:
            self.dropped += 1
        self._events.append(event)
        self._audit_wake.set()

    async def run(self) -> None:
        """Write what is queued until cancelled, health and audit each in a loop of its own; a
        failed write is logged and not retried (a health record is rewritten on the next probe;
        an audit event is retried once)."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._keep_writing, self._health_wake_wait, self._drain_health)
            tg.start_soon(self._keep_writing, self._audit_wake_wait, self._drain_audit)

    async def _health_wake_wait(self) -> None:
        await self._health_wake.wait()
        self._health_wake = anyio.Event()

    async def _audit_wake_wait(self) -> None:
        await self._audit_wake.wait()
        self._audit_wake = anyio.Event()

    @staticmethod
    async def _keep_writing(
        wait: Callable[[], Awaitable[None]], drain: Callable[[], Awaitable[None]]
    ) -> None:
        while True:
            await wait()
            await drain()

    async def drain(self) -> None:
        """Write everything queued now (each write bounded), health and audit side by side."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._drain_health)
            tg.start_soon(self._drain_audit)

    async def _drain_health(self) -> None:
        """The records queued now: probes keep adding newer ones, which wait for the next round
        (else a stalled store would keep this loop busy for ever)."""
        pending, self._health = self._health, {}
        for node, health in pending.items():
            await self._write(f"health of {node}", self._health_store.put(health, self._ttl))

    async def _drain_audit(self) -> None:
        while self._events:
            event = self._events.popleft()
            what = f"audit {event.kind.value}"
            written = await self._write(what, self._audit.append(event))
            if not written and not await self._write(what, self._audit.append(event)):
                self.dropped += 1

    async def _write(self, what: str, write: Awaitable[object]) -> bool:
        try:
            with anyio.fail_after(self._timeout):
                await write
        except (VectoBeatError, TimeoutError) as exc:
            self.failures += 1
            _log.warning("lavalink_record_failed what=%s error=%s", what, str(exc) or "timed out")
            return False
        return True
