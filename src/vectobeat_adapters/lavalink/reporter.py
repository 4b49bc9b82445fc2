"""`ClusterReporter`: how the cluster's parts tell the world what happened.

Events go to the bot's ``on_event`` (awaited in order, its failure logged), finished failovers to
``on_failover``, node status changes to ``on_status`` (called, never awaited: it only wakes
alarms), audit events and health records to the `OffPathRecorder` (never awaited on the failover
path), and every count to `FailoverCounts`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import attrs

from vectobeat_adapters.lavalink.recorder import OffPathRecorder
from vectobeat_core.audit import AuditEvent
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import FailoverCounts, LavalinkEvent, NodeFailover

__all__ = ["ClusterReporter", "EventCallback", "FailoverCallback", "StatusCallback"]

_log = logging.getLogger("vectobeat.lavalink")

EventCallback = Callable[[GuildId, LavalinkEvent], Awaitable[None]]
FailoverCallback = Callable[[NodeFailover], Awaitable[None]]
StatusCallback = Callable[[NodeName, NodeStatus], None]
"""Told each node status change (must not block: the bot's alarms only wake up)."""


class ClusterReporter:
    """Callbacks, the off-path recorder and the counters, shared by the cluster's parts."""

    def __init__(
        self,
        recorder: OffPathRecorder,
        on_event: EventCallback | None,
        on_failover: FailoverCallback | None,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.recorder = recorder
        self._on_event = on_event
        self._on_failover = on_failover
        self._on_status = on_status
        self._counts = FailoverCounts()

    @property
    def counts(self) -> FailoverCounts:
        return self._counts

    def count(self, **increments: int) -> None:
        self._counts = attrs.evolve(
            self._counts, **{k: getattr(self._counts, k) + v for k, v in increments.items()}
        )

    def audit(self, event: AuditEvent) -> None:
        """Audit ``event`` off the failover path (`OffPathRecorder`)."""
        self.recorder.audit(event)

    async def emit(self, event: LavalinkEvent) -> None:
        """Hand ``event`` to ``on_event``; its failure is logged, never raised into the cluster."""
        if self._on_event is not None:
            try:
                await self._on_event(event.guild_id, event)
            except Exception:
                _log.exception("lavalink_event_callback_failed guild=%s", event.guild_id)

    async def failed_over(self, summary: NodeFailover) -> None:
        """Hand a finished node failover to ``on_failover``; its failure is logged, not raised."""
        if self._on_failover is not None:
            try:
                await self._on_failover(summary)
            except Exception:
                _log.exception("lavalink_failover_callback_failed node=%s", summary.node)

    def status_changed(self, node: NodeName, status: NodeStatus) -> None:
        """Tell ``on_status`` that ``node`` is now ``status``; its failure is logged, not raised."""
        if self._on_status is not None:
            try:
                self._on_status(node, status)
            except Exception:
                _log.exception("lavalink_status_callback_failed node=%s", node)
