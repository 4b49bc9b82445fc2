"""`PlayerCommands`: the player commands of the `Lavalink` port (play, seek, volume, ...).

Each takes the player's lock, updates its `PlayerRecord` and PATCHes the node it plays on; when
that node fails, the player is rebuilt elsewhere (`Failover.relocate`) with the new state, so a
command never reports success for a silent guild. `LavalinkCluster` is these commands plus the
nodes' lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping

from vectobeat_adapters.lavalink.failover import Failover
from vectobeat_adapters.lavalink.node import NodeRequestError
from vectobeat_adapters.lavalink.placement import Placement
from vectobeat_adapters.lavalink.player_rest import PlayerRest
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.players import PlayerRecord, VoiceState
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink import LoadResult, PlayerInfo
from vectobeat_core.regions import RegionDecision
from vectobeat_core.routing import penalty
from vectobeat_core.tracks import Track

__all__ = ["PlayerCommands"]


class PlayerCommands:
    """Commands on the players of ``store``, sent through ``rest``: what each does is the
    `Lavalink` port's (`vectobeat_core.ports`), how is the module docstring's."""

    def __init__(
        self,
        registry: NodeRegistry,
        store: PlayerStore,
        rest: PlayerRest,
        placement: Placement,
        failover: Failover,
    ) -> None:
        self.registry = registry
        self.store = store
        self.rest = rest
        self.placement = placement
        self.failover = failover

    async def load_tracks(self, query: str) -> LoadResult:
        """The least loaded healthy node first, then the others."""
        if not query.strip():
            raise InvalidInput("Say what to play: a link or some words to search for.")
        ranked = sorted(
            (v for v in self.registry.views() if v.routable),
            key=lambda v: (v.status is not NodeStatus.UP, penalty(v.stats), v.name),
        )
        problems: list[str] = []
        for view in ranked:  # each node once, best first (a fallback, not a retry)
            try:
                payload = await self.registry.node(view.name).request(
                    "GET", "/v4/loadtracks", query={"identifier": query}
                )
                return LoadResult.from_lavalink(payload)
            except (NodeUnavailable, InvalidInput) as exc:
                problems.append(str(exc))
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise NodeUnavailable(f"No Lavalink node could load tracks right now{detail}.")

    async def ensure_player(self, guild_id: GuildId, decision: RegionDecision) -> PlayerInfo:
        return self.placement.place(guild_id, decision)

    async def update_voice(
        self,
        guild_id: GuildId,
        *,
        session_id: str,
        token: str,
        endpoint: str,
        channel_id: ChannelId,
    ) -> None:
        """Kept in the player's record, so a failover can restore voice."""
        if not (session_id and token and endpoint):
            raise InvalidInput("Voice data needs a session id, a token and an endpoint.")
        record = self.store.require(guild_id)
        async with record.lock:
            record.voice = VoiceState(session_id, token, endpoint, channel_id)
            await self._send(record, {"voice": record.voice.to_lavalink()})

    async def play(
        self,
        guild_id: GuildId,
        track: Track,
        *,
        start_ms: int = 0,
        paused: bool = False,
        volume: int = 100,
        filters: Mapping[str, JSON] | None = None,
        end_ms: int | None = None,
    ) -> None:
        """A track boundary: a player away from its region may move back here."""
        _check_volume(volume)
        if start_ms < 0 or (end_ms is not None and end_ms <= 0):
            raise InvalidInput("Start and end positions must be positive.")
        record = self.store.require(guild_id)
        async with record.lock:
            returned_from = self.placement.maybe_return(record)
            now = self.registry.clock.now()
            was_paused = record.paused
            record.track = track
            record.end_ms = end_ms
            record.aim(start_ms, now)
            record.paused = paused
            record.volume = volume
            if filters is not None:
                record.filters = dict(filters)
            fresh = not record.held_by(record.node, self.registry.node(record.node).session_id)
            await self._send(record, record.full_body(now, fresh=fresh, was_paused=was_paused))
            if returned_from is not None:
                await self.placement.finish_return(record, returned_from)

    async def set_paused(self, guild_id: GuildId, paused: bool) -> None:
        record = self.store.require(guild_id)
        async with record.lock:
            now = self.registry.clock.now()
            record.rebase(record.position_now(now), now)
            record.paused = paused
            await self._send(record, {"paused": paused})

    async def seek(self, guild_id: GuildId, ms: int) -> None:
        if ms < 0:
            raise InvalidInput("A position must be 0 or more.")
        record = self.store.require(guild_id)
        async with record.lock:
            record.aim(ms, self.registry.clock.now())
            await self._send(record, {"position": ms})

    async def set_volume(self, guild_id: GuildId, volume: int) -> None:
        _check_volume(volume)
        record = self.store.require(guild_id)
        async with record.lock:
            record.volume = volume
            await self._send(record, {"volume": volume})

    async def set_filters(self, guild_id: GuildId, filters: Mapping[str, JSON]) -> None:
        record = self.store.require(guild_id)
        async with record.lock:
            record.filters = dict(filters)
            await self._send(record, {"filters": dict(filters)})

    async def stop(self, guild_id: GuildId) -> None:
        record = self.store.require(guild_id)
        async with record.lock:
            record.track = None
            record.end_ms = None
            await self._send(record, {"track": {"encoded": None}})

    async def destroy(self, guild_id: GuildId) -> None:
        record = self.store.forget(guild_id)
        if record is None or record.created_on is None:
            return
        async with record.lock:
            await self.rest.delete(record.created_on, guild_id)

    async def _send(self, record: PlayerRecord, body: Mapping[str, JSON]) -> None:
        """Apply ``body`` on the player's node; if that node fails, rebuild it elsewhere.

        A node whose session no longer holds the player (it restarted without resuming) would
        create an empty player from a partial update and answer 200: the player is rebuilt
        there from its state instead, so a success is never reported for a silent guild.
        """
        node = self.registry.node(record.node)
        if record.created_on is not None and not record.held_by(record.node, node.session_id):
            body = record.full_body(self.registry.clock.now(), fresh=True)
        try:
            answer = await self.rest.patch(record, body)
        except NodeRequestError as exc:
            if not exc.retry_elsewhere:
                raise
            await self.failover.relocate(record, reason=str(exc))
            return
        except NodeUnavailable as exc:
            await self.failover.relocate(record, reason=str(exc))
            return
        record.created_on = record.node
        record.created_session = node.session_id
        record.stranded = False
        self.rest.note_answer(record, answer)


def _check_volume(volume: int) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= 1000:
        raise InvalidInput("Volume must be a whole number from 0 to 1000.")
