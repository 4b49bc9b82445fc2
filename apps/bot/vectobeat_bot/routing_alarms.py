"""Alarms from the bot for failovers and evacuated regions, sent off the failover path.

A node failover is one alarm with counts (`failover_alarm`), never one per player. A pinned
region is *evacuated* while some pinned guild's player runs outside it: the first one triggers an
alarm and the last one back resolves it (`evacuation_alarms`). Displacements are read from the
cluster once per wake-up (a batch of moves, or every ``recheck_s``), so a failover of thousands
of players costs one scan, and a displaced player that is stopped still resolves the alarm.
De-duplication and rate limits are the `AlarmDispatcher`'s (the core's `AlarmThrottle`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

import anyio
import anyio.abc

from vectobeat_adapters.alarms import AlarmDispatcher
from vectobeat_adapters.lavalink import NodeFailover
from vectobeat_core.displacement import Displacement, evacuation_alarms, failover_alarm
from vectobeat_core.health import Alarm
from vectobeat_core.regions import Region

__all__ = ["RoutingAlarms"]

_log = logging.getLogger("vectobeat.bot.routing_alarms")


class RoutingAlarms:
    """Queues failover alarms and re-checks evacuations; `run` sends them."""

    def __init__(
        self,
        dispatcher: AlarmDispatcher,
        displaced: Callable[[], Iterable[Displacement]],
        *,
        recheck_s: float = 30.0,
    ) -> None:
        self.dispatcher = dispatcher
        self._displaced = displaced
        self.recheck_s = recheck_s
        self._outbox: list[Alarm] = []
        self._out: Counter[Region] = Counter()
        self._wake = anyio.Event()

    async def failed_over(self, summary: NodeFailover) -> None:
        """The cluster finished a node failover (its ``on_failover``)."""
        self._outbox.append(
            failover_alarm(
                summary.node,
                summary.region,
                players=summary.players,
                moved=summary.moved,
                stranded=summary.stranded,
                out_of_region=summary.out_of_region,
                at=self.dispatcher.clock.now(),
            )
        )
        self._wake.set()

    def moved(self) -> None:
        """A player moved between nodes: re-check the evacuated regions soon."""
        self._wake.set()

    async def check(self) -> None:
        """Send queued failover alarms, then evacuation triggers/resolves for what changed."""
        outbox, self._outbox = self._outbox, []
        for alarm in outbox:
            await self.dispatcher.dispatch(alarm)
        now_out = Counter(d.wanted for d in self._displaced())
        for alarm in evacuation_alarms(self._out, now_out, self.dispatcher.clock.now()):
            await self.dispatcher.dispatch(alarm)
        self._out = now_out

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Check on every wake-up and every ``recheck_s`` until cancelled; never raises."""
        task_status.started()
        while True:
            with anyio.move_on_after(self.recheck_s):
                await self._wake.wait()
            self._wake = anyio.Event()
            try:
                await self.check()
            except Exception:  # an alarm bug must not take the bot down
                _log.exception("routing_alarms_failed")
