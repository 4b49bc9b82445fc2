"""`HealthWatch`: probes each node on the `HealthPolicy`'s schedule and acts on status changes.

Probe results and websocket events go through the core's `observe`; a node that goes down has
its players moved (`Failover.migrate`), a node that comes up gets its players put right
(`Recovery`). Health records are written off the probe path (`OffPathRecorder`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio

from vectobeat_adapters.lavalink.failover import Failover
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.probe import probe_node
from vectobeat_adapters.lavalink.recovery import Recovery
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import ClusterReporter
from vectobeat_core.health import (
    HealthPolicy,
    NodeStatus,
    ProbeResult,
    Transition,
    WsEvent,
    next_probe_delay,
    observe,
)
from vectobeat_core.ids import NodeName

__all__ = ["HealthWatch", "Spawn"]

_log = logging.getLogger("vectobeat.lavalink")

Spawn = Callable[..., None]
"""Start ``func(*args)`` in the cluster's task group (a no-op once it is closing)."""


class HealthWatch:
    """The probe loops and the reaction to every status transition."""

    def __init__(
        self,
        registry: NodeRegistry,
        reporter: ClusterReporter,
        failover: Failover,
        recovery: Recovery,
        *,
        policy: HealthPolicy,
        spawn: Spawn,
    ) -> None:
        self._registry = registry
        self._reporter = reporter
        self._failover = failover
        self._recovery = recovery
        self.policy = policy
        self._spawn = spawn
        self._probed: dict[NodeName, anyio.Event] = {}

    async def first_probe(self, name: NodeName) -> None:
        """Until ``name`` has been probed once."""
        await self._probed.setdefault(name, anyio.Event()).wait()

    async def probe_loop(self, node: NodeClient) -> None:
        probed = self._probed.setdefault(node.name, anyio.Event())
        while True:
            try:
                outcome = await probe_node(node, self.policy.probe_timeout_s)
                if outcome.stats is not None:
                    self._registry.set_stats(node.name, outcome.stats)
                await self.observe(node.name, outcome.result)
            except Exception:  # a bug must not stop health checks (and the cluster with them)
                _log.exception("lavalink_probe_loop_failed node=%s", node.name)
            probed.set()
            await anyio.sleep(next_probe_delay(self._registry.health(node.name), self.policy))

    async def observe(self, name: NodeName, event: ProbeResult | WsEvent) -> None:
        now = self._registry.clock.now()
        health, transition = observe(self._registry.health(name), event, self.policy, now)
        self._registry.set_health(health)
        self._reporter.recorder.health(health)  # off the probe path: a stalled store never waits
        if transition is not None:
            why = getattr(event, "error", None) or getattr(event, "reason", None) or ""
            self._on_transition(transition, str(why))

    def _on_transition(self, transition: Transition, why: str) -> None:
        name = transition.node
        _log.log(
            logging.INFO if transition.routine else logging.WARNING,
            "lavalink_node_status node=%s from=%s to=%s event=%s why=%s",
            name,
            transition.from_status.value,
            transition.to_status.value,
            transition.event.value,
            why,
        )
        self._reporter.status_changed(name, transition.to_status)
        if transition.to_status is NodeStatus.DOWN:
            reason = f"node {name} is down ({transition.event.text}{': ' + why if why else ''})"
            self._spawn(self._failover.migrate, name, reason)
        elif transition.to_status is NodeStatus.UP:
            node = self._registry.node(name)
            self._spawn(self._recovery.reconcile, node)
            self._spawn(self._recovery.rebuild_lost, node)
            self._spawn(self._recovery.place_stranded)
