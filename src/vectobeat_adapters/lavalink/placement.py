"""`Placement`: which node a guild's player starts on, and when it goes back to its region.

* `Placement.place` puts a new player on the best node of its effective region (`choose_node`)
  and audits the choice (and a region that had no healthy node).
* `Placement.maybe_return` runs at a track boundary (`LavalinkCluster.play`): once the preferred
  region has been healthy for ``return_hold_s`` the next track starts there (`plan_return`),
  never mid-song; `Placement.finish_return` then deletes the player it left.
"""

from __future__ import annotations

import attrs

from vectobeat_adapters.lavalink.player_rest import PlayerRest
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import ClusterReporter
from vectobeat_core.audit import AuditEvent
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink import PlayerInfo
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import choose_node, plan_return, region_healthy_since

__all__ = ["Placement"]


class Placement:
    """Chooses nodes for new players and brings displaced ones home (see the module docstring)."""

    def __init__(
        self,
        registry: NodeRegistry,
        store: PlayerStore,
        rest: PlayerRest,
        reporter: ClusterReporter,
        *,
        return_hold_s: float,
    ) -> None:
        self._registry = registry
        self._store = store
        self._rest = rest
        self._reporter = reporter
        self.return_hold_s = return_hold_s

    def place(self, guild_id: GuildId, decision: RegionDecision) -> PlayerInfo:
        """The guild's player, placed on the best node of its effective region when new."""
        record = self._store.record(guild_id)
        if record is not None:
            record.decision = decision  # a region change applies at the next track boundary
            return self._store.info(record)
        now = self._registry.clock.now()
        choice = choose_node(self._registry.views(), decision)
        record = PlayerRecord(guild_id, decision, choice.node, read_at=now)
        self._store.keep(record)
        event = AuditEvent.effective_region(guild_id, decision, choice.node, now)
        data: dict[str, JSON] = {
            **event.data,
            "routing": choice.reason_code,
            "routing_reason": choice.reason,
        }
        self._reporter.audit(attrs.evolve(event, data=data))
        if choice.reason_code == "region_unavailable":
            self._reporter.audit(
                AuditEvent.region_unavailable(
                    guild_id, decision.effective, choice.node, choice.region, now
                )
            )
        return record.info(now, choice.region)

    def maybe_return(self, record: PlayerRecord) -> NodeName | None:
        """At a track boundary: point the player back at its preferred region when that region
        has been healthy for ``return_hold_s``; returns the node it leaves (caller holds the
        lock)."""
        registry = self._registry
        preferred = record.decision.effective
        if preferred is Region.AUTO or registry.region_of(record.node) is preferred:
            return None
        now = registry.clock.now()
        views = registry.views()
        usable = {v.name for v in views if v.routable}
        since = region_healthy_since(
            (registry.region_of(h.node), h) for h in registry.healths() if h.node in usable
        )
        moves = plan_return(
            [record.placement(now, registry.region_of(record.node))],
            views,
            health_since=since,
            now=now,
            hold_seconds=self.return_hold_s,
            at_track_boundary=lambda _placement: True,
        )
        if not moves:
            return None
        leaving = record.node
        record.node = moves[0].to_node
        return leaving

    async def finish_return(self, record: PlayerRecord, left: NodeName) -> None:
        """After the first play on the home node: audit, count, and delete the old player."""
        if record.node == left:
            return
        registry = self._registry
        self._reporter.audit(
            AuditEvent.node_return(
                record.guild_id,
                left,
                record.node,
                registry.region_of(record.node),
                registry.clock.now(),
            )
        )
        await self._rest.delete(left, record.guild_id)
        self._reporter.count(players_returned=1)  # counted once the old node's player is gone
