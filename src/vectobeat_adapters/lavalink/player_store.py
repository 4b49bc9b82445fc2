"""`PlayerStore`: the cluster's `PlayerRecord` per guild, and the read-only views of them."""

from __future__ import annotations

from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.displacement import Displacement, displacement
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import GuildId
from vectobeat_core.lavalink import PlayerInfo

__all__ = ["PlayerStore"]


class PlayerStore:
    """Players by guild; `info` is what the bot sees of one (`PlayerInfo`)."""

    def __init__(self, registry: NodeRegistry) -> None:
        self._registry = registry
        self._players: dict[GuildId, PlayerRecord] = {}

    def records(self) -> list[PlayerRecord]:
        return list(self._players.values())

    def record(self, guild_id: GuildId) -> PlayerRecord | None:
        return self._players.get(guild_id)

    def require(self, guild_id: GuildId) -> PlayerRecord:
        record = self._players.get(guild_id)
        if record is None:
            raise NotFound(f"There is no player for guild {guild_id}; start playback first.")
        return record

    def keep(self, record: PlayerRecord) -> None:
        self._players[record.guild_id] = record

    def forget(self, guild_id: GuildId) -> PlayerRecord | None:
        return self._players.pop(guild_id, None)

    def info(self, record: PlayerRecord) -> PlayerInfo:
        return record.info(self._registry.clock.now(), self._registry.region_of(record.node))

    def player(self, guild_id: GuildId) -> PlayerInfo | None:
        record = self._players.get(guild_id)
        return None if record is None else self.info(record)

    def players(self) -> list[PlayerInfo]:
        now = self._registry.clock.now()
        region_of = self._registry.region_of
        return [r.info(now, region_of(r.node)) for r in self._players.values()]

    def displaced(self) -> list[Displacement]:
        """Players of pinned guilds running outside their region (the core's `displacement`)."""
        region_of = self._registry.region_of
        found = (
            displacement(r.guild_id, r.decision.effective, region_of(r.node), r.node)
            for r in self._players.values()
        )
        return [d for d in found if d is not None]
