"""`PlayerRest`: the REST calls on players (PATCH, rebuild, DELETE, list), no retry and no routing.

Which node a player belongs on is decided by `placement` and `failover`; this module only
speaks to the node the record names, and keeps the record's idea of position up to date.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.errors import NodeUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink_fields import snowflake

__all__ = ["PlayerRest"]

_log = logging.getLogger("vectobeat.lavalink.failover")


class PlayerRest:
    """Player REST calls on the registry's nodes."""

    def __init__(self, registry: NodeRegistry) -> None:
        self._registry = registry

    async def patch(self, record: PlayerRecord, body: Mapping[str, JSON]) -> Any:
        """PATCH the record's player on its current node (no retry)."""
        node = self._registry.node(record.node)
        if node.session_id is None or self._registry.status_of(record.node) is NodeStatus.DOWN:
            raise NodeUnavailable(f"Lavalink node {record.node} is down.")
        started = time.perf_counter()
        answer = await node.request(
            "PATCH",
            f"/v4/sessions/{node.session_id}/players/{record.guild_id}",
            body=dict(body),
        )
        self._registry.note_round_trip(record.node, time.perf_counter() - started)
        return answer

    def note_answer(self, record: PlayerRecord, answer: Any) -> None:
        """Take the position from a PATCH answer, read when the node wrote it."""
        state = answer.get("state") if isinstance(answer, Mapping) else None
        record.note_player(answer, self._registry.clock.now() - self._registry.lag(state))

    async def restore_on(self, record: PlayerRecord, target: NodeName) -> int:
        """One PATCH with the player's whole state on ``target``; the position it was given.

        On failure the record is left where it was (``NodeUnavailable`` is raised)."""
        previous, previous_created = record.node, record.created_on
        record.node = target
        record.restoring = record.track is not None
        now = self._registry.clock.now() + self._registry.lead(target)
        body = record.full_body(now, fresh=True)
        raw = body.get("position", 0)
        position = raw if isinstance(raw, int) else 0
        try:
            answer = await self.patch(record, body)
        except NodeUnavailable:
            record.node, record.created_on, record.restoring = previous, previous_created, False
            raise
        record.created_on = target
        record.created_session = self._registry.node(target).session_id
        record.aim(position, now)
        self.note_answer(record, answer)
        return position

    async def delete(self, node_name: NodeName, guild_id: GuildId) -> None:
        """Best effort: a node that is down has lost or will reconcile the player anyway."""
        node = self._registry.node(node_name)
        if node.session_id is None or not node.connected:
            return
        try:
            await node.request("DELETE", f"/v4/sessions/{node.session_id}/players/{guild_id}")
        except NodeUnavailable as exc:
            _log.info("lavalink_delete_failed node=%s guild=%s error=%s", node_name, guild_id, exc)

    @staticmethod
    async def held(node: NodeClient, what: str) -> list[tuple[GuildId, dict[str, Any]]] | None:
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
            guild_id = snowflake(player.get("guildId")) if isinstance(player, dict) else None
            if guild_id is not None:
                held.append((GuildId(guild_id), player))
        return held
