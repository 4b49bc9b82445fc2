"""``DependencyBoard``: the state of everything the bot depends on, for ``/status``, ``/readyz``,
``/metrics`` and ``/status`` in Discord.

Redis and SQL come from their `DependencyWatch` (``Services.watches``), the panel bridge from its own
watch, the erasure record from the bot's `ErasureCatchUp` (anything with a ``status`` will do), and each Lavalink node (``lavalink:<name>``) from the cluster's view, observed on every
look and once a second by ``run``, so ``since`` is when its state last changed. A dependency that
is not configured is ``not_configured``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import anyio
import anyio.abc

from vectobeat_core.dependencies import DependencyState, DependencyStatus
from vectobeat_core.health import NodeStatus
from vectobeat_core.ports import Clock
from vectobeat_core.routing import NodeView

__all__ = ["DependencyBoard", "Watched", "node_state"]

_NODE_STATES = {
    NodeStatus.UP: DependencyState.UP,
    NodeStatus.DEGRADED: DependencyState.DEGRADED,
    NodeStatus.DOWN: DependencyState.DOWN,
    NodeStatus.UNKNOWN: DependencyState.DOWN,
}


class Watched(Protocol):
    """Something that keeps a dependency's state (a `DependencyWatch`, the erasure catch-up)."""

    @property
    def status(self) -> DependencyStatus: ...


def node_state(status: NodeStatus) -> DependencyState:
    """A Lavalink node's health as a dependency state (unknown counts as down)."""
    return _NODE_STATES[status]


class DependencyBoard:
    """Every dependency's `DependencyStatus` (see the module docstring)."""

    def __init__(
        self,
        clock: Clock,
        *,
        watches: Mapping[str, Watched],
        nodes: Callable[[], Sequence[NodeView]],
        expected: Sequence[str] = ("redis", "sql", "panel_bridge"),
    ) -> None:
        self._clock = clock
        self._watches = dict(watches)
        self._nodes = nodes
        self._expected = tuple(expected)
        self._node_status: dict[str, DependencyStatus] = {}

    def observe_nodes(self) -> None:
        """Record each node's current state (``since`` moves only when it changes)."""
        now = self._clock.now()
        for view in self._nodes():
            name = f"lavalink:{view.name}"
            held = self._node_status.get(name) or DependencyStatus(name, DependencyState.DOWN)
            state = node_state(view.status)
            detail = None if state is DependencyState.UP else f"node status {view.status.value}"
            self._node_status[name] = held.observe(state, now, detail)

    def statuses(self) -> list[DependencyStatus]:
        """Every dependency, sorted by name."""
        self.observe_nodes()
        found = [watch.status for watch in self._watches.values()]
        found += [
            DependencyStatus(name, DependencyState.NOT_CONFIGURED)
            for name in self._expected
            if name not in self._watches
        ]
        found += self._node_status.values()
        return sorted(found, key=lambda d: d.name)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Observe the nodes once a second until cancelled (no I/O: the cluster's own view)."""
        task_status.started()
        while True:
            self.observe_nodes()
            await anyio.sleep(1.0)
