"""`NodeRegistry`: the configured nodes, their health, stats and round trips, as routing sees them.

The registry only remembers: probes and websocket events are turned into `NodeHealth` by
`health_watch`, players are placed by `placement` and moved by `failover`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_core.errors import ConfigError
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.lavalink_fields import real
from vectobeat_core.ports import Clock
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeStats, NodeView

__all__ = ["NodeRegistry"]

_LEAD_FACTOR = 0.5  # a PATCH takes effect about half a round trip after it is sent


class NodeRegistry:
    """Every node by name: its client, health, stats and smoothed REST round trip."""

    def __init__(self, specs: Sequence[NodeSpec], clock: Clock) -> None:
        if not specs:
            raise ConfigError("No Lavalink node is configured: set LAVALINK_NODES.")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ConfigError("Lavalink node names must be unique.")
        self.specs = tuple(specs)
        self.clock = clock
        self._spec = {s.name: s for s in specs}
        self._nodes: dict[NodeName, NodeClient] = {}
        self._health: dict[NodeName, NodeHealth] = {}
        self._stats: dict[NodeName, NodeStats] = {}
        self._rtt: dict[NodeName, float] = {}
        self._started = (0.0, 0.0)
        self._adopting: set[NodeName] = set()

    def start(self, nodes: Sequence[NodeClient], resumed: Mapping[NodeName, str]) -> None:
        """Register the nodes' clients, each with its initial health; start the clock rate.

        A node in ``resumed`` (the session ids of our previous run) resumes that session and
        its players are adopted (`adopting`) when it is ready."""
        now = self.clock.now()
        self._started = (now, time.monotonic())
        for node in nodes:
            self._nodes[node.name] = node
            self._health[node.name] = NodeHealth.initial(node.name, now)
            if node.name in resumed:
                node.session_id = resumed[node.name]
                self._adopting.add(node.name)

    # -- reading -------------------------------------------------------------------------------

    def clients(self) -> list[NodeClient]:
        return list(self._nodes.values())

    def node(self, name: NodeName) -> NodeClient:
        return self._nodes[name]

    def region_of(self, name: NodeName) -> Region:
        return self._spec[name].region

    def health(self, name: NodeName) -> NodeHealth:
        return self._health[name]

    def healths(self) -> list[NodeHealth]:
        return [self._health[s.name] for s in self.specs if s.name in self._health]

    def status_of(self, name: NodeName) -> NodeStatus:
        """Routing status: a node without a live websocket session or with a problem is down."""
        node = self._nodes.get(name)
        if node is None or node.problem is not None or not node.connected:
            return NodeStatus.DOWN
        return self._health[name].status

    def views(self) -> list[NodeView]:
        return [
            NodeView(
                spec,
                self.status_of(spec.name),
                self._stats.get(spec.name),
                self._health[spec.name].last_latency_ms if spec.name in self._health else None,
            )
            for spec in self.specs
        ]

    def session_ids(self) -> dict[NodeName, str]:
        """Each node's current Lavalink session id (what a restart resumes)."""
        return {n.name: n.session_id for n in self._nodes.values() if n.session_id is not None}

    def adopting(self, name: NodeName) -> bool:
        """Whether ``name``'s first session after a restart is still being taken over."""
        return name in self._adopting

    def adopted(self, name: NodeName) -> None:
        self._adopting.discard(name)

    def problems(self) -> dict[NodeName, str]:
        """Nodes that cannot be used at all (e.g. not Lavalink v4), with the reason."""
        return {n.name: n.problem for n in self._nodes.values() if n.problem is not None}

    # -- remembering ---------------------------------------------------------------------------

    def set_health(self, health: NodeHealth) -> None:
        self._health[health.node] = health

    def set_stats(self, name: NodeName, stats: NodeStats) -> None:
        self._stats[name] = stats

    def note_round_trip(self, name: NodeName, took_s: float) -> None:
        previous = self._rtt.get(name)
        self._rtt[name] = took_s if previous is None else previous * 0.8 + took_s * 0.2

    # -- time ----------------------------------------------------------------------------------

    def lead(self, name: NodeName) -> float:
        """Clock seconds between building a PATCH and the node applying it (recent round
        trips, scaled to the clock); a moved player's position is extrapolated that far ahead."""
        rtt = min(self._rtt.get(name, 0.0), 1.0)
        return rtt * _LEAD_FACTOR * self.rate()

    def lag(self, state: object) -> float:
        """How long ago (in clock seconds) the node read a ``playerUpdate`` position.

        A busy event loop reads websocket messages late; the update's ``time`` (node wall
        clock) says by how much. Scaled by the clock's rate (1 in production, the playback
        speed under an accelerated test clock); ignored when clocks disagree by seconds.
        """
        sent = real(state.get("time")) if isinstance(state, Mapping) else None
        if sent is None:
            return 0.0
        lag = time.time() - sent / 1000.0
        if not 0.0 < lag < 5.0:
            return 0.0
        return lag * self.rate()

    def rate(self) -> float:
        """Clock seconds per wall second: 1 for a wall clock, the speed of an accelerated one."""
        elapsed = time.monotonic() - self._started[1]
        if elapsed < 0.5:
            return 1.0
        return max((self.clock.now() - self._started[0]) / elapsed, 0.0)
