"""`HealthChecker`: polls every node, records health, publishes the routing table, raises alarms.

Each node is probed (``/version`` + ``/v4/stats`` under ``probe_timeout_s``, then ``/metrics``
where the node serves it) on the `HealthPolicy` schedule: quick retries while it fails, so a hung
node is down within ``policy.detection_bound_s``. Every result goes through the core's state
machine; the record is written to the `HealthStore` with a TTL (the panel's routing table reads
it) and a status change may become an alarm (`alarm_for`), de-duplicated and rate limited by the
`AlarmThrottle` and sent to every `AlarmSink` by the `AlarmDispatcher` (sinks retry on their own).
A sink that still fails is logged and counted; it never stops the checker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp
import anyio
import attrs

from vectobeat_adapters.alarms.dispatch import AlarmDispatcher
from vectobeat_adapters.lavalink.cluster import DEFAULT_POLICY, LavalinkCluster
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.probe import (
    ProbeOutcome,
    ResumeCheck,
    probe_metrics,
    probe_node,
    probe_resuming,
)
from vectobeat_adapters.logging_setup import bound_context
from vectobeat_adapters.telemetry_names import NODE_STATS_TTL_SECONDS, node_stats_document
from vectobeat_core.errors import ConfigError, VectoBeatError
from vectobeat_core.health import (
    Alarm,
    AlarmThrottle,
    HealthPolicy,
    NodeHealth,
    alarm_for,
    next_probe_delay,
    observe,
)
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import AlarmSink, Clock, HealthStore, TelemetryCache
from vectobeat_core.routing import NodeSpec, NodeStats, NodeView

__all__ = ["HealthChecker"]

_log = logging.getLogger("vectobeat.lavalink.checker")


class _NoSocket:
    """The checker only uses REST; a node client needs a handler all the same."""

    async def node_ready(self, node: NodeClient, resumed: bool) -> None: ...

    async def node_closed(self, node: NodeClient, reason: str) -> None: ...

    async def node_stats(self, node: NodeClient, stats: NodeStats) -> None: ...

    async def node_message(self, node: NodeClient, op: str, payload: Mapping[str, Any]) -> None: ...

    async def node_bad_payload(self, node: NodeClient, problem: str) -> None: ...


class HealthChecker:
    """Async context manager; `check_once()` for ``nodes check``, `run()` for ``nodes watch``."""

    def __init__(
        self,
        source: LavalinkCluster | Sequence[NodeSpec],
        health_store: HealthStore,
        alarm_sinks: Sequence[AlarmSink],
        policy: HealthPolicy | None,
        clock: Clock,
        *,
        throttle: AlarmThrottle | None = None,
        health_ttl_s: float = 30.0,
        scrape_metrics: bool = True,
        telemetry: TelemetryCache | None = None,
    ) -> None:
        specs = source.specs if isinstance(source, LavalinkCluster) else tuple(source)
        if not specs:
            raise ConfigError("No Lavalink node is configured: set LAVALINK_NODES.")
        self.specs: tuple[NodeSpec, ...] = tuple(specs)
        self.policy = policy or DEFAULT_POLICY
        self.clock = clock
        self.alarms = AlarmDispatcher(alarm_sinks, clock, throttle)
        self._store = health_store
        self._ttl = health_ttl_s
        self._scrape = scrape_metrics
        self._telemetry = telemetry
        self._health: dict[NodeName, NodeHealth] = {}
        self._stats: dict[NodeName, NodeStats] = {}
        self._errors: dict[NodeName, str] = {}
        self._metrics: dict[NodeName, dict[str, float] | None] = {}
        self._nodes: dict[NodeName, NodeClient] = {}
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HealthChecker:
        self._http = aiohttp.ClientSession()
        now = self.clock.now()
        for spec in self.specs:
            self._nodes[spec.name] = NodeClient(
                spec,
                user_id=1,
                client_name="vectobeat-checker",
                http=self._http,
                handler=_NoSocket(),
            )
            try:
                stored = await self._store.get(spec.name)
            except VectoBeatError:
                stored = None
            self._health[spec.name] = stored or NodeHealth.initial(spec.name, now)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- checking ------------------------------------------------------------------------------

    async def check_once(self) -> list[NodeHealth]:
        """Probe every node once, in parallel; record, alarm, and return the healths."""
        async with anyio.create_task_group() as tg:
            for node in self._nodes.values():
                tg.start_soon(self._check, node)
        return self.healths()

    async def check_resuming(self, timeout_s: float) -> dict[NodeName, ResumeCheck]:
        """Per node, in parallel: does it agree to resume a websocket session (`probe_resuming`)?"""
        if self._http is None:
            raise RuntimeError("HealthChecker.check_resuming needs `async with HealthChecker(...)`")
        http = self._http
        results: dict[NodeName, ResumeCheck] = {}

        async def one(spec: NodeSpec) -> None:
            node = NodeClient(
                spec,
                user_id=1,
                client_name="vectobeat-checker",
                http=http,
                handler=_NoSocket(),
                request_timeout_s=timeout_s,
                connect_timeout_s=timeout_s,
            )
            results[spec.name] = await probe_resuming(node, timeout_s)

        async with anyio.create_task_group() as tg:
            for spec in self.specs:
                tg.start_soon(one, spec)
        return results

    async def run(self) -> None:
        """Probe every node forever on the policy's schedule (cancel to stop)."""
        async with anyio.create_task_group() as tg:
            for node in self._nodes.values():
                tg.start_soon(self._loop, node)

    async def _loop(self, node: NodeClient) -> None:
        with bound_context(node=node.name, region=node.spec.region.value):  # each event names it
            while True:
                await self._check(node)
                await anyio.sleep(next_probe_delay(self._health[node.name], self.policy))

    async def _check(self, node: NodeClient) -> None:
        outcome = await probe_node(node, self.policy.probe_timeout_s)
        if outcome.result.ok and self._scrape:
            self._metrics[node.name] = await probe_metrics(node, self.policy.probe_timeout_s)
        await self._record(node, outcome)

    async def _record(self, node: NodeClient, outcome: ProbeOutcome) -> None:
        name = node.name
        if outcome.stats is not None:
            self._stats[name] = outcome.stats
            await self._publish_stats(name, outcome.stats)
        elif not outcome.result.ok and self._stats.pop(name, None) is not None:
            await self._publish_stats(name, None)
        if outcome.result.error:
            self._errors[name] = outcome.result.error
        else:
            self._errors.pop(name, None)
        now = self.clock.now()
        health, transition = observe(self._health[name], outcome.result, self.policy, now)
        self._health[name] = health
        try:
            await self._store.put(health, self._ttl)
        except VectoBeatError as exc:
            _log.warning("lavalink_health_store_failed node=%s error=%s", name, exc)
        if transition is None:
            return
        _log.log(
            logging.INFO if transition.routine else logging.WARNING,
            "lavalink_node_status node=%s from=%s to=%s event=%s why=%s",
            name,
            transition.from_status.value,
            transition.to_status.value,
            transition.event.value,
            outcome.result.error or "",
        )
        alarm = alarm_for(transition, name, node.spec.region.value)
        if alarm is not None:
            if outcome.result.error and alarm.status == "trigger":
                alarm = _with_reason(alarm, outcome.result.error)
            await self.dispatch(alarm)

    async def _publish_stats(self, name: NodeName, stats: NodeStats | None) -> None:
        """Keep the node's last stats where the panel's nodes page reads players from.

        ``None`` (the node stopped answering) replaces them: a dead node's last count of
        players is not what it holds now, as its players move elsewhere.
        """
        if self._telemetry is None:
            return
        document = None if stats is None else stats.to_json()
        try:
            await self._telemetry.put(node_stats_document(name), document, NODE_STATS_TTL_SECONDS)
        except VectoBeatError as exc:
            _log.warning("lavalink_stats_publish_failed node=%s error=%s", name, exc)

    async def dispatch(self, alarm: Alarm) -> bool:
        """Throttle, then send to every sink; True when at least one sink took it."""
        return await self.alarms.dispatch(alarm)

    @property
    def throttle(self) -> AlarmThrottle:
        return self.alarms.throttle

    @property
    def sent(self) -> list[Alarm]:
        return self.alarms.sent

    @property
    def suppressed(self) -> list[tuple[Alarm, str]]:
        return self.alarms.suppressed

    @property
    def delivery_failures(self) -> list[str]:
        return self.alarms.delivery_failures

    # -- reading -------------------------------------------------------------------------------

    def healths(self) -> list[NodeHealth]:
        return [self._health[s.name] for s in self.specs]

    def routing_table(self) -> list[NodeView]:
        """What routing would see: every node's status, stats and latency (no passwords)."""
        return [NodeView.of(s, self._health[s.name], self._stats.get(s.name)) for s in self.specs]

    def errors(self) -> dict[NodeName, str]:
        """The last probe error of each failing node (why it is degraded or down)."""
        return dict(self._errors)

    def metrics(self, node: NodeName) -> dict[str, float] | None:
        """The node's last ``/metrics`` gauges (``None``: metrics off or not scraped yet)."""
        return self._metrics.get(node)


def _with_reason(alarm: Alarm, error: str) -> Alarm:
    return attrs.evolve(alarm, summary=f"{alarm.summary}: {error[:300]}")
