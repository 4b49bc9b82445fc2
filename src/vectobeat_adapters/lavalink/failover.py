"""Failover: move a down node's players, lossless and in parallel; bring them home later.

* `migrate` runs when a node goes down: the core's `plan_migration` spreads its players over the
  best healthy nodes of their region (else any region), and every move is one PATCH carrying the
  track at its extrapolated position, paused, volume, filters and voice, bounded by
  ``move_concurrency``. A target that refuses is skipped for the next best (`choose_node`).
* `maybe_return` runs at a track boundary (`LavalinkCluster.play`): once the preferred region has
  been healthy for ``return_hold_s`` the next track starts there (`plan_return`), never mid-song.
* `rebuild_lost` runs when a node comes back with a new session (it restarted, or does not
  resume): every player it held is rebuilt there from its state, in parallel.
* `adopt` takes over the players of a session resumed after a bot restart (they never stopped).
* `reconcile` deletes players a node still holds after they moved away (a resumed session, a
  node back from a hang), so a guild never plays twice.

Queues are never touched here: they belong to the bot. Every move is an audit event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from vectobeat_adapters.lavalink.model import NodeFailover, PlayerMoved
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_core.audit import AuditEvent
from vectobeat_core.errors import NodeUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import (
    Move,
    choose_node,
    plan_migration,
    plan_return,
    region_healthy_since,
)

if TYPE_CHECKING:
    from vectobeat_adapters.lavalink.cluster import LavalinkCluster

__all__ = [
    "adopt",
    "delete_player",
    "finish_return",
    "maybe_return",
    "migrate",
    "place_stranded",
    "rebuild_lost",
    "reconcile",
    "relocate",
]

_log = logging.getLogger("vectobeat.lavalink.failover")


async def migrate(cluster: LavalinkCluster, dead: NodeName, reason: str) -> None:
    """Move every player of the ``dead`` node, in parallel, to the best healthy nodes."""
    now = cluster.clock.now()
    region = cluster.region_of(dead)
    records = [r for r in cluster.records() if r.node == dead]
    if not records:
        return
    cluster.count(failovers=1)
    plan = plan_migration([r.placement(now, region) for r in records], cluster.views(), dead, now)
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
            await _apply(cluster, move, reason)

    async with anyio.create_task_group() as tg:  # move_concurrency movers, not a task per move
        for _ in range(min(cluster.move_concurrency, len(plan.moves))):
            tg.start_soon(mover)
    for guild_id in plan.stranded:
        record = cluster.record(guild_id)
        if record is not None and record.node == dead:
            _strand(cluster, record)
            cluster.record_audit(
                AuditEvent.effective_region(guild_id, record.decision, None, cluster.clock.now())
            )
    await cluster.failed_over(_summary(cluster, dead, region, reason, records))


def _summary(
    cluster: LavalinkCluster, dead: NodeName, region: Region, reason: str,
    records: list[PlayerRecord],
) -> NodeFailover:  # fmt: skip
    """What one failover did to the players the ``dead`` node held."""
    moved = [r for r in records if r.node != dead and not r.stranded]
    out = sum(
        1
        for r in moved
        if r.decision.effective.pinned and cluster.region_of(r.node) is not r.decision.effective
    )
    stranded = sum(1 for r in records if r.node == dead or r.stranded)
    return NodeFailover(dead, region, reason, len(records), len(moved), stranded, out)


async def _apply(cluster: LavalinkCluster, move: Move, reason: str) -> None:
    record = cluster.record(move.guild_id)
    if record is None:
        return
    async with record.lock:
        if record.node != move.from_node:
            return  # moved meanwhile (a command relocated it)
        try:
            await _move(cluster, record, move.to_node, reason)
        except NodeUnavailable:
            _strand(cluster, record)
        except Exception:  # one bad player must not stop the others' moves
            _log.exception("lavalink_move_crashed guild=%s", record.guild_id)
            _strand(cluster, record)


def _strand(cluster: LavalinkCluster, record: PlayerRecord) -> None:
    """Mark a player that found no node; counted once until it plays again."""
    if not record.stranded:
        record.stranded = True
        cluster.count(players_stranded=1)


async def relocate(cluster: LavalinkCluster, record: PlayerRecord, *, reason: str) -> None:
    """Rebuild one player on the best other node (the caller holds ``record.lock``)."""
    region = cluster.region_of(record.node)
    choice = choose_node(cluster.views(), _decision_region(record, region), exclude=(record.node,))
    await _move(cluster, record, choice.node, reason)


def _decision_region(record: PlayerRecord, current: Region) -> RegionDecision:
    """The decision to route with: an ``auto`` guild prefers the region it plays in now."""
    if record.decision.effective is not Region.AUTO:
        return record.decision
    return RegionDecision(current, current, False, "as_requested", "keep the current region")


async def _move(
    cluster: LavalinkCluster, record: PlayerRecord, target: NodeName, reason: str
) -> None:
    """Rebuild ``record`` on ``target``, falling back to the next best nodes; audit it."""
    source = record.node
    region = cluster.region_of(source)
    tried: set[NodeName] = {source}
    candidate = target
    while True:
        try:
            position = await _restore_on(cluster, record, candidate)
            break
        except NodeUnavailable as exc:
            _log.warning(
                "lavalink_move_failed guild=%s target=%s error=%s", record.guild_id, candidate, exc
            )
            cluster.count(move_failures=1)
            tried.add(candidate)
            decision = _decision_region(record, region)
            candidate = choose_node(cluster.views(), decision, exclude=tried).node
    now = cluster.clock.now()
    record.stranded = False
    to_region = cluster.region_of(candidate)
    cluster.record_audit(
        AuditEvent.node_failover(
            record.guild_id, source, candidate, to_region, reason=reason, at=now,
            position_ms=position,
        )
    )  # fmt: skip
    wanted = record.decision.effective
    if wanted is not Region.AUTO and to_region is not wanted:
        cluster.record_audit(
            AuditEvent.region_unavailable(record.guild_id, wanted, candidate, to_region, now)
        )
    cluster.count(players_moved=1)
    await cluster.emit(PlayerMoved(record.guild_id, source, candidate))


async def _restore_on(cluster: LavalinkCluster, record: PlayerRecord, target: NodeName) -> int:
    """One PATCH with the player's whole state on ``target``; the position it was given."""
    previous, previous_created = record.node, record.created_on
    record.node = target
    record.restoring = record.track is not None
    now = cluster.clock.now() + cluster.lead(target)
    body = record.full_body(now, fresh=True)
    position = body.get("position", 0)
    try:
        answer = await cluster.patch_player(record, body)
    except NodeUnavailable:
        record.node, record.created_on, record.restoring = previous, previous_created, False
        raise
    record.created_on = target
    record.created_session = cluster.node(target).session_id
    record.aim(position if isinstance(position, int) else 0, now)
    cluster.note_answer(record, answer)
    return position if isinstance(position, int) else 0


async def maybe_return(cluster: LavalinkCluster, record: PlayerRecord) -> NodeName | None:
    """At a track boundary: point the player back at its preferred region when that region has
    been healthy for ``return_hold_s``; returns the node it leaves (caller holds the lock)."""
    preferred = record.decision.effective
    if preferred is Region.AUTO or cluster.region_of(record.node) is preferred:
        return None
    now = cluster.clock.now()
    views = cluster.views()
    usable = {v.name for v in views if v.routable}
    since = region_healthy_since(
        (cluster.region_of(h.node), h) for h in cluster.healths() if h.node in usable
    )
    moves = plan_return(
        [record.placement(now, cluster.region_of(record.node))],
        views,
        health_since=since,
        now=now,
        hold_seconds=cluster.return_hold_s,
        at_track_boundary=lambda _placement: True,
    )
    if not moves:
        return None
    leaving = record.node
    record.node = moves[0].to_node
    return leaving


async def finish_return(cluster: LavalinkCluster, record: PlayerRecord, left: NodeName) -> None:
    """After the first play on the home node: audit, count, and delete the old player."""
    if record.node == left:
        return
    cluster.record_audit(
        AuditEvent.node_return(
            record.guild_id, left, record.node, cluster.region_of(record.node), cluster.clock.now()
        )
    )
    await delete_player(cluster, left, record.guild_id)
    cluster.count(players_returned=1)  # counted once the old node's player is gone too


async def delete_player(cluster: LavalinkCluster, node_name: NodeName, guild_id: GuildId) -> None:
    """Best effort: a node that is down has lost or will reconcile the player anyway."""
    node = cluster.node(node_name)
    if node.session_id is None or not node.connected:
        return
    try:
        await node.request("DELETE", f"/v4/sessions/{node.session_id}/players/{guild_id}")
    except NodeUnavailable as exc:
        _log.info("lavalink_delete_failed node=%s guild=%s error=%s", node_name, guild_id, exc)


async def _held_players(node: NodeClient, what: str) -> list[tuple[GuildId, dict[str, Any]]] | None:
    """The players ``node``'s session holds, by guild (``None`` when it cannot say)."""
    if node.session_id is None:
        return None
    try:
        players = await node.request("GET", f"/v4/sessions/{node.session_id}/players")
    except NodeUnavailable as exc:
        _log.info("lavalink_%s_failed node=%s error=%s", what, node.name, exc)
        return None
    held: list[tuple[GuildId, dict[str, Any]]] = []
    for player in players if isinstance(players, list) else []:
        raw = player.get("guildId") if isinstance(player, dict) else None
        if isinstance(raw, str) and raw.isascii() and raw.isdigit():
            held.append((GuildId(int(raw)), player))
    return held


async def reconcile(cluster: LavalinkCluster, node: NodeClient) -> None:
    """Delete the players ``node`` still holds for guilds that now play elsewhere."""
    if not node.connected:  # a dead session would only 404
        return
    if cluster.adopting(node.name):
        return  # its players are ours from before a restart: `adopt` takes them over
    for guild_id, _ in await _held_players(node, "reconcile") or []:
        record = cluster.record(guild_id)
        if record is None or record.node != node.name:
            await delete_player(cluster, node.name, guild_id)


async def place_stranded(cluster: LavalinkCluster) -> None:
    """Players that found no healthy node get one as soon as a node is up again."""
    for record in cluster.records():
        if not record.stranded or cluster.status_of(record.node) is not NodeStatus.DOWN:
            continue
        async with record.lock:
            try:
                await relocate(cluster, record, reason="a node is available again")
            except NodeUnavailable as exc:
                _log.warning("lavalink_still_stranded guild=%s error=%s", record.guild_id, exc)


async def rebuild_lost(cluster: LavalinkCluster, node: NodeClient) -> None:
    """Rebuild, in parallel, every player ``node`` lost with its old session (or that was
    stranded on it): the node's new session does not hold them."""
    lost = [
        r
        for r in cluster.records()
        if r.node == node.name
        and r.created_on is not None
        and not r.held_by(node.name, node.session_id)
    ]
    if not lost:
        return
    _log.warning("lavalink_rebuilding_players node=%s players=%d", node.name, len(lost))
    limiter = anyio.CapacityLimiter(cluster.move_concurrency)

    async def rebuild(record: PlayerRecord) -> None:
        async with limiter, record.lock:
            if record.node != node.name or record.held_by(node.name, node.session_id):
                return  # moved or rebuilt meanwhile
            try:
                await _restore_on(cluster, record, node.name)
            except NodeUnavailable as exc:
                _log.warning("lavalink_rebuild_failed guild=%s error=%s", record.guild_id, exc)
                return
            record.stranded = False
            cluster.count(players_rebuilt=1)
            await cluster.emit(PlayerMoved(record.guild_id, node.name, node.name))

    async with anyio.create_task_group() as tg:
        for record in lost:
            tg.start_soon(rebuild, record)


async def adopt(cluster: LavalinkCluster, node: NodeClient) -> None:
    """After a restart, the players of ``node``'s resumed session are this process's: keep
    them playing (a record each) instead of deleting or replaying them; delete only those of
    guilds that now play elsewhere."""
    held = await _held_players(node, "adopt")
    if held is None or node.session_id is None:
        return
    now = cluster.clock.now()
    adopted = 0
    for guild_id, player in held:
        record = cluster.record(guild_id)
        if record is None:
            cluster.keep(
                PlayerRecord.adopted(
                    guild_id,
                    node=node.name,
                    region=cluster.region_of(node.name),
                    session_id=node.session_id,
                    player=player,
                    now=now,
                )
            )
            adopted += 1
        elif record.node != node.name:
            await delete_player(cluster, node.name, guild_id)
    cluster.count(players_adopted=adopted)
    _log.info("lavalink_players_adopted node=%s players=%d", node.name, adopted)
