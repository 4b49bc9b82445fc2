"""`Recovery`: what happens when a node is back (or a restarted bot finds its sessions).

* `Recovery.rebuild_lost`: a node back with a new session (it restarted, or does not resume) gets
  every player it held rebuilt from its state, in parallel.
* `Recovery.adopt`: the players of a session resumed after a bot restart are taken over (they
  never stopped).
* `Recovery.reconcile`: players a node still holds after they moved away (a resumed session, a
  node back from a hang) are deleted, so a guild never plays twice.
* `Recovery.place_stranded`: players that found no healthy node get one.
"""

from __future__ import annotations

import logging

import anyio

from vectobeat_adapters.lavalink.failover import Failover
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.player_rest import PlayerRest
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import ClusterReporter
from vectobeat_core.errors import NodeUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.lavalink import PlayerMoved

__all__ = ["Recovery"]

_log = logging.getLogger("vectobeat.lavalink.failover")


class Recovery:
    """Puts players right on nodes that came back (see the module docstring)."""

    def __init__(
        self,
        registry: NodeRegistry,
        store: PlayerStore,
        rest: PlayerRest,
        reporter: ClusterReporter,
        failover: Failover,
    ) -> None:
        self._registry = registry
        self._store = store
        self._rest = rest
        self._reporter = reporter
        self._failover = failover

    async def reconcile(self, node: NodeClient) -> None:
        """Delete the players ``node`` still holds for guilds that now play elsewhere."""
        if not node.connected:  # a dead session would only 404
            return
        if self._registry.adopting(node.name):
            return  # its players are ours from before a restart: `adopt` takes them over
        for guild_id, _ in await self._rest.held(node, "reconcile") or []:
            record = self._store.record(guild_id)
            if record is None or record.node != node.name:
                await self._rest.delete(node.name, guild_id)

    async def place_stranded(self) -> None:
        """Players that found no healthy node get one as soon as a node is up again."""
        for record in self._store.records():
            if not record.stranded or self._registry.status_of(record.node) is not NodeStatus.DOWN:
                continue
            async with record.lock:
                try:
                    await self._failover.relocate(record, reason="a node is available again")
                except NodeUnavailable as exc:
                    _log.warning("lavalink_still_stranded guild=%s error=%s", record.guild_id, exc)

    async def rebuild_lost(self, node: NodeClient) -> None:
        """Rebuild, in parallel, every player ``node`` lost with its old session (or that was
        stranded on it): the node's new session does not hold them."""
        lost = [
            r
            for r in self._store.records()
            if r.node == node.name
            and r.created_on is not None
            and not r.held_by(node.name, node.session_id)
        ]
        if not lost:
            return
        _log.warning("lavalink_rebuilding_players node=%s players=%d", node.name, len(lost))
        limiter = anyio.CapacityLimiter(self._failover.move_concurrency)

        async def rebuild(record: PlayerRecord) -> None:
            async with limiter, record.lock:
                if record.node != node.name or record.held_by(node.name, node.session_id):
                    return  # moved or rebuilt meanwhile
                try:
                    await self._rest.restore_on(record, node.name)
                except NodeUnavailable as exc:
                    _log.warning("lavalink_rebuild_failed guild=%s error=%s", record.guild_id, exc)
                    return
                record.stranded = False
                self._reporter.count(players_rebuilt=1)
                await self._reporter.emit(PlayerMoved(record.guild_id, node.name, node.name))

        async with anyio.create_task_group() as tg:
            for record in lost:
                tg.start_soon(rebuild, record)

    async def adopt(self, node: NodeClient) -> None:
        """After a restart, the players of ``node``'s resumed session are this process's: keep
        them playing (a record each) instead of deleting or replaying them; delete only those of
        guilds that now play elsewhere."""
        held = await self._rest.held(node, "adopt")
        if held is None or node.session_id is None:
            return
        now = self._registry.clock.now()
        adopted = 0
        for guild_id, player in held:
            record = self._store.record(guild_id)
            if record is None:
                self._store.keep(
                    PlayerRecord.adopted(
                        guild_id,
                        node=node.name,
                        region=self._registry.region_of(node.name),
                        session_id=node.session_id,
                        player=player,
                        now=now,
                    )
                )
                adopted += 1
            elif record.node != node.name:
                await self._rest.delete(node.name, guild_id)
        self._reporter.count(players_adopted=adopted)
        _log.info("lavalink_players_adopted node=%s players=%d", node.name, adopted)
