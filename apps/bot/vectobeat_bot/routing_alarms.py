"""The bot's alarm outbox: failovers, evacuated regions and every other decision, sent off the
path that decided.

A node failover is one alarm with counts (`failover_alarm`), never one per player, resolved once
the node is up again (`failover_resolved_alarm`). Other parts `post` their alarms (a shard
promotion) or hand a ``source`` asked at each check (webhook outages). A pinned
region is *evacuated* while some pinned guild's player runs outside it: the first one triggers an
alarm and the last one back resolves it (`evacuation_alarms`). Displacements are read from the
cluster once per wake-up (a batch of moves, or every ``recheck_s``), so a failover of thousands
of players costs one scan, and a displaced player that is stopped still resolves the alarm.
De-duplication and rate limits are the `AlarmDispatcher`'s (the core's `AlarmThrottle`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import anyio
import anyio.abc

from vectobeat_adapters.alarms import AlarmDispatcher
from vectobeat_adapters.lavalink import NodeFailover
from vectobeat_core.displacement import (
    Displacement,
    evacuation_alarms,
    failover_alarm,
    failover_resolved_alarm,
)
from vectobeat_core.health import Alarm, NodeStatus
from vectobeat_core.regions import Region

__all__ = ["RoutingAlarms"]

_log = logging.getLogger("vectobeat.bot.routing_alarms")


AlarmSource = Callable[[float], list[Alarm]]
"""Asked at each check with the time: the alarms to send now."""


class RoutingAlarms:
    """Queues alarms, re-checks failed-over nodes and evacuations; `run` sends them.

    ``node_up`` says whether a node is routable again (resolving its failover alarm);
    ``sources`` are asked for their alarms at every check.
    """

    def __init__(
        self,
        dispatcher: AlarmDispatcher,
        displaced: Callable[[], Iterable[Displacement]],
        *,
        node_up: Callable[[str], bool] | None = None,
        sources: Sequence[AlarmSource] = (),
        recheck_s: float = 30.0,
    ) -> None:
        self.dispatcher = dispatcher
        self._displaced = displaced
        self._node_up = node_up
        self._sources = tuple(sources)
        self.recheck_s = recheck_s
        self._outbox: list[Alarm] = []
        self._failed: dict[str, Region] = {}
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
        self._failed[summary.node] = summary.region
        self._wake.set()

    def post(self, alarm: Alarm) -> None:
        """Send ``alarm`` soon, off the caller's path."""
        self._outbox.append(alarm)
        self._wake.set()

    def moved(self) -> None:
        """A player moved between nodes: re-check the evacuated regions soon."""
        self._wake.set()

    def node_status(self, node: str, status: NodeStatus) -> None:
        """A node changed status (the cluster's ``on_status``): one that is up again may
        resolve its failover alarm now, not at the next periodic check."""
        if status is NodeStatus.UP and node in self._failed:
            self._wake.set()

    async def check(self) -> None:
        """Send queued alarms, resolves for failed-over nodes that are up, the sources' alarms,
        then evacuation triggers/resolves for what changed."""
        outbox, self._outbox = self._outbox, []
        now = self.dispatcher.clock.now()
        if self._node_up is not None:
            for node, region in list(self._failed.items()):
                if self._node_up(node):
                    del self._failed[node]
                    outbox.append(failover_resolved_alarm(node, region, now))
        for source in self._sources:
            outbox.extend(source(now))
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
