"""`NodeEvents`: what the cluster does with each node's websocket (the `NodeHandler`).

``ready`` opens the node's health and puts its players right (adopts a resumed session's players
after a restart, reconciles a resumed one, rebuilds a new one's); ``playerUpdate`` refreshes a
player's position; ``event`` ops become `LavalinkEvent`s for the bot. Events from a node that no
longer owns the guild's player are dropped; a ``TrackStart`` that resumes a moved player has
``restored=True``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
import attrs

from vectobeat_adapters.lavalink.health_watch import HealthWatch, Spawn
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.recovery import Recovery
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import ClusterReporter
from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeStatus, WsEvent
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import TrackEnd, TrackStart, parse_event
from vectobeat_core.lavalink_fields import snowflake
from vectobeat_core.routing import NodeStats

__all__ = ["NodeEvents"]

_log = logging.getLogger("vectobeat.lavalink")


class NodeEvents:
    """The cluster's `NodeHandler`; calls arrive in websocket order (keep them quick)."""

    def __init__(
        self,
        registry: NodeRegistry,
        store: PlayerStore,
        reporter: ClusterReporter,
        watch: HealthWatch,
        recovery: Recovery,
        *,
        spawn: Spawn,
        sessions: SessionFile | None,
    ) -> None:
        self._registry = registry
        self._store = store
        self._reporter = reporter
        self._watch = watch
        self._recovery = recovery
        self._spawn = spawn
        self._session_file = sessions
        self._settled: dict[NodeName, anyio.Event] = {}
        self.closing = False
        """Set at our own shutdown: closing every websocket then is not an outage."""

    async def settled(self, name: NodeName) -> None:
        """Until ``name``'s first ``ready`` has been handled (resumed players adopted)."""
        await self._settled.setdefault(name, anyio.Event()).wait()

    async def node_ready(self, node: NodeClient, resumed: bool) -> None:
        await self._watch.observe(node.name, WsEvent(open=True))
        if self._registry.adopting(node.name):
            if resumed:
                await self._recovery.adopt(node)  # before the bot restores queues onto them
            self._registry.adopted(node.name)
        elif resumed:
            self._spawn(self._recovery.reconcile, node)
        elif self._registry.status_of(node.name) is NodeStatus.UP:
            self._spawn(self._recovery.rebuild_lost, node)  # else when it is up again
        self._settled.setdefault(node.name, anyio.Event()).set()
        if self._session_file is not None:
            self._spawn(self._session_file.save, self._registry.session_ids())

    async def node_closed(self, node: NodeClient, reason: str) -> None:
        if not self.closing:
            await self._watch.observe(node.name, WsEvent(open=False, reason=reason))

    async def node_stats(self, node: NodeClient, stats: NodeStats) -> None:
        self._registry.set_stats(node.name, stats)

    async def node_bad_payload(self, node: NodeClient, problem: str) -> None:
        self._reporter.count(bad_payloads=1)
        _log.warning("lavalink_bad_payload node=%s problem=%s", node.name, problem)

    async def node_message(self, node: NodeClient, op: str, payload: Mapping[str, Any]) -> None:
        guild_id = snowflake(payload.get("guildId"))
        if guild_id is None:
            await self.node_bad_payload(node, f"a {op} op without a valid guildId")
            return
        record = self._store.record(GuildId(guild_id))
        if record is None or record.node != node.name:
            return  # a player this node no longer owns (moved away): ignore it
        now = self._registry.clock.now()
        if op == "playerUpdate":
            state = payload.get("state")
            if not record.lock.locked() and record.fresh(state):
                record.note_state(state, now - self._registry.lag(state))
            return
        try:
            event = parse_event(record.guild_id, payload)
        except InvalidInput as exc:
            await self.node_bad_payload(node, str(exc))
            return
        if event is None:  # a plugin's event type: not ours, not a fault
            _log.debug("lavalink_event_ignored node=%s type=%.40r", node.name, payload.get("type"))
            return
        if isinstance(event, TrackStart) and record.restoring:
            record.restoring = False
            event = attrs.evolve(event, restored=True)
        if isinstance(event, TrackEnd) and event.reason != "replaced":
            same = event.track is None or record.track is None
            if same or (
                record.track is not None
                and event.track is not None
                and event.track.encoded == record.track.encoded
            ):
                record.track = None
                record.end_ms = None
        await self._reporter.emit(event)
