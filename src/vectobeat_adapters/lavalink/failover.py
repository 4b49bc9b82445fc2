"""`Failover`: move a down node's players, lossless and in parallel, or one player that failed.

* `Failover.migrate` runs when a node goes down: the core's `plan_migration` spreads its players
  over the best healthy nodes of their region (else any region), and every move is one PATCH
  carrying the track at its extrapolated position, paused, volume, filters and voice, bounded by
  ``move_concurrency``. A target that refuses is skipped for the next best (`choose_node`).
* `Failover.relocate` rebuilds one player elsewhere when its node fails a command.

Bringing players home is `placement`; rebuilding, adopting and reconciling a node that came
back is `recovery`. Queues are never touched here: they belong to the bot. Every move is audited.
"""

from __future__ import annotations

import logging

import anyio

from vectobeat_adapters.lavalink.player_rest import PlayerRest
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import ClusterReporter
from vectobeat_core.audit import AuditEvent
from vectobeat_core.errors import NodeUnavailable
from vectobeat_core.ids import NodeName
from vectobeat_core.lavalink import NodeFailover, PlayerMoved
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import Move, choose_node, plan_migration

__all__ = ["Failover", "routing_decision"]

_log = logging.getLogger("vectobeat.lavalink.failover")


def routing_decision(record: PlayerRecord, current: Region) -> RegionDecision:
    """The decision to route with: an ``auto`` guild prefers the region it plays in now."""
    if record.decision.effective is not Region.AUTO:
        return record.decision
    return RegionDecision(current, current, False, "as_requested", "keep the current region")


class Failover:
    """Moves players off failed nodes (see the module docstring)."""

    def __init__(
        self,
        registry: NodeRegistry,
        store: PlayerStore,
        rest: PlayerRest,
        reporter: ClusterReporter,
        *,
        move_concurrency: int,
    ) -> None:
        self._registry = registry
        self._store = store
        self._rest = rest
        self._reporter = reporter
        self.move_concurrency = move_concurrency

    async def migrate(self, dead: NodeName, reason: str) -> None:
        """Move every player of the ``dead`` node, in parallel, to the best healthy nodes."""
        registry, reporter = self._registry, self._reporter
        now = registry.clock.now()
        region = registry.region_of(dead)
        records = [r for r in self._store.records() if r.node == dead]
        if not records:
            return
        reporter.count(failovers=1)
        placements = [r.placement(now, region) for r in records]
        plan = plan_migration(placements, registry.views(), dead, now)
        _log.warning(
            "lavalink_failover node=%s players=%d moves=%d stranded=%d",
            dead,
            len(records),
            len(plan.moves),
            len(plan.stranded),
        )
        moves = iter(plan.moves)

        async def mover() -> None:
            for move in moves:  # one shared iterator: each move is taken by one mover
                await self._apply(move, reason)

        async with anyio.create_task_group() as tg:  # move_concurrency movers, not one per move
            for _ in range(min(self.move_concurrency, len(plan.moves))):
                tg.start_soon(mover)
        for guild_id in plan.stranded:
            record = self._store.record(guild_id)
            if record is not None and record.node == dead:
                self.strand(record)
                reporter.audit(
                    AuditEvent.effective_region(
                        guild_id, record.decision, None, registry.clock.now()
                    )
                )
        await reporter.failed_over(self._summary(dead, region, reason, records))

    def _summary(
        self, dead: NodeName, region: Region, reason: str, records: list[PlayerRecord]
    ) -> NodeFailover:
        """What one failover did to the players the ``dead`` node held."""
        region_of = self._registry.region_of
        moved = [r for r in records if r.node != dead and not r.stranded]
        out = sum(
            1
            for r in moved
            if r.decision.effective.pinned and region_of(r.node) is not r.decision.effective
        )
        stranded = sum(1 for r in records if r.node == dead or r.stranded)
        return NodeFailover(dead, region, reason, len(records), len(moved), stranded, out)

    async def _apply(self, move: Move, reason: str) -> None:
        record = self._store.record(move.guild_id)
        if record is None:
            return
        async with record.lock:
            if record.node != move.from_node:
                return  # moved meanwhile (a command relocated it)
            try:
                await self._move(record, move.to_node, reason)
            except NodeUnavailable:
                self.strand(record)
            except Exception:  # one bad player must not stop the others' moves
                _log.exception("lavalink_move_crashed guild=%s", record.guild_id)
                self.strand(record)

    def strand(self, record: PlayerRecord) -> None:
        """Mark a player that found no node; counted once until it plays again."""
        if not record.stranded:
            record.stranded = True
            self._reporter.count(players_stranded=1)

    async def relocate(self, record: PlayerRecord, *, reason: str) -> None:
        """Rebuild one player on the best other node (the caller holds ``record.lock``)."""
        region = self._registry.region_of(record.node)
        decision = routing_decision(record, region)
        choice = choose_node(self._registry.views(), decision, exclude=(record.node,))
        await self._move(record, choice.node, reason)

    async def _move(self, record: PlayerRecord, target: NodeName, reason: str) -> None:
        """Rebuild ``record`` on ``target``, falling back to the next best nodes; audit it."""
        registry, reporter = self._registry, self._reporter
        source = record.node
        region = registry.region_of(source)
        tried: set[NodeName] = {source}
        candidate = target
        while True:  # one candidate node after another (no retry: each node is tried once)
            try:
                position = await self._rest.restore_on(record, candidate)
                break
            except NodeUnavailable as exc:
                _log.warning(
                    "lavalink_move_failed guild=%s target=%s error=%s",
                    record.guild_id,
                    candidate,
                    exc,
                )
                reporter.count(move_failures=1)
                tried.add(candidate)
                decision = routing_decision(record, region)
                candidate = choose_node(registry.views(), decision, exclude=tried).node
        now = registry.clock.now()
        record.stranded = False
        to_region = registry.region_of(candidate)
        reporter.audit(
            AuditEvent.node_failover(
                record.guild_id, source, candidate, to_region, reason=reason, at=now,
                position_ms=position,
            )
        )  # fmt: skip
        wanted = record.decision.effective
        if wanted is not Region.AUTO and to_region is not wanted:
            reporter.audit(
                AuditEvent.region_unavailable(record.guild_id, wanted, candidate, to_region, now)
            )
        reporter.count(players_moved=1)
        await reporter.emit(PlayerMoved(record.guild_id, source, candidate))
