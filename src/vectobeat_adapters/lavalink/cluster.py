"""`LavalinkCluster`: the regional node pool the bot plays through (the core's `Lavalink` port).

Nodes come from `NodeSpec`s (``LAVALINK_NODES``); each keeps a websocket (resumed after drops, see
`NodeClient`) and is probed on the `HealthPolicy`'s schedule. Players are driven at the REST level
(``PATCH /v4/sessions/{sid}/players/{guild}``), so no Discord voice client is involved: the bot
hands over voice data with `update_voice`.

The cluster wires its parts and drives player commands; each part has one job:

=====================  ==========================================================================
`PlayerCommands`       play, seek, volume, filters, stop, ...: the commands the bot sends
`NodeRegistry`         the nodes, their health, stats and round trips (what routing sees)
`PlayerStore`          a `PlayerRecord` per guild, and the `PlayerInfo` views of them
`PlayerRest`           the REST calls on players (PATCH, rebuild, DELETE, list)
`Placement`            a new player's node; the way home to its region at a track boundary
`Failover`             moving a down node's players (or one that failed a command) elsewhere
`Recovery`             rebuilding, adopting and reconciling the players of a node that is back
`HealthWatch`          the probe loops, and acting on every node status change
`NodeEvents`           each node's websocket messages (`NodeHandler`)
`ClusterReporter`      the bot's callbacks, audit and health records, `FailoverCounts`
=====================  ==========================================================================

``on_event(guild_id, event)`` is awaited in the node's websocket reader, in order: keep it quick
(hand long work to a task). Every move (of a playing or an idle player) is told with a
`PlayerMoved` once the new node holds the player. `PlayerInfo.node` names where the player runs,
or is being rebuilt during a move.

Why aiohttp and not pomice's ``Node``: see `vectobeat_adapters.lavalink.node`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any

import aiohttp
import anyio
import anyio.abc

from vectobeat_adapters.lavalink.commands import PlayerCommands
from vectobeat_adapters.lavalink.failover import Failover
from vectobeat_adapters.lavalink.health_watch import HealthWatch
from vectobeat_adapters.lavalink.lyrics import NodeLyrics
from vectobeat_adapters.lavalink.node import Backoff, NodeClient
from vectobeat_adapters.lavalink.node_events import NodeEvents
from vectobeat_adapters.lavalink.node_sources import NodeSources
from vectobeat_adapters.lavalink.placement import Placement
from vectobeat_adapters.lavalink.player_rest import PlayerRest
from vectobeat_adapters.lavalink.player_store import PlayerStore
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.recorder import OffPathRecorder
from vectobeat_adapters.lavalink.recovery import Recovery
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_adapters.lavalink.reporter import (
    ClusterReporter,
    EventCallback,
    FailoverCallback,
    StatusCallback,
)
from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_core.displacement import Displacement
from vectobeat_core.errors import ConfigError
from vectobeat_core.health import HealthPolicy, NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import FailoverCounts, Lyrics, PlayerInfo
from vectobeat_core.ports import AuditLog, Clock, HealthStore
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView

__all__ = ["DEFAULT_POLICY", "EventCallback", "FailoverCallback", "LavalinkCluster"]

#: Probes every 0.5 s: a hung node is down within 2.5 s (``detection_bound_s``), leaving
#: half a second of margin under the 3 s promise for a busy event loop.
DEFAULT_POLICY = HealthPolicy(probe_interval_s=0.5)


class LavalinkCluster(PlayerCommands):
    """An async context manager over the configured nodes (see the module docstring)."""

    def __init__(
        self,
        specs: Sequence[NodeSpec],
        *,
        user_id: int,
        client_name: str,
        clock: Clock,
        audit: AuditLog,
        health_store: HealthStore,
        on_event: EventCallback | None = None,
        on_failover: FailoverCallback | None = None,
        on_status: StatusCallback | None = None,
        policy: HealthPolicy | None = None,
        return_hold_s: float = 60.0,
        move_concurrency: int = 16,
        health_ttl_s: float = 30.0,
        startup_timeout_s: float = 5.0,
        request_timeout_s: float = 5.0,
        backoff: Backoff | None = None,
        sessions: SessionFile | None = None,
    ) -> None:
        if user_id <= 0:
            raise ConfigError("The bot's user id must be a positive snowflake.")
        if move_concurrency < 1:
            raise ConfigError("move_concurrency must be at least 1.")
        registry = NodeRegistry(specs, clock)
        self.specs = registry.specs
        self.policy = policy or DEFAULT_POLICY
        self.clock = clock
        self.audit = audit
        self._user_id = user_id
        self._client_name = client_name
        self._startup_timeout_s = startup_timeout_s
        self._request_timeout_s = request_timeout_s
        self._backoff = backoff
        self._session_file = sessions
        self._recorder = OffPathRecorder(health_store, audit, health_ttl_s=health_ttl_s)
        self.reporter = ClusterReporter(self._recorder, on_event, on_failover, on_status)
        store, rest = PlayerStore(registry), PlayerRest(registry)
        super().__init__(
            registry,
            store,
            rest,
            Placement(registry, store, rest, self.reporter, return_hold_s=return_hold_s),
            Failover(registry, store, rest, self.reporter, move_concurrency=move_concurrency),
        )
        self.recovery = Recovery(self.registry, self.store, self.rest, self.reporter, self.failover)
        self.watch = HealthWatch(
            self.registry,
            self.reporter,
            self.failover,
            self.recovery,
            policy=self.policy,
            spawn=self._spawn,
        )
        self.events = NodeEvents(
            self.registry,
            self.store,
            self.reporter,
            self.watch,
            self.recovery,
            spawn=self._spawn,
            sessions=sessions,
        )
        self.sources = NodeSources(registry)
        self._http: aiohttp.ClientSession | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    @property
    def move_concurrency(self) -> int:
        return self.failover.move_concurrency

    @property
    def return_hold_s(self) -> float:
        return self.placement.return_hold_s

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> LavalinkCluster:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=None)
        )
        saved = {} if self._session_file is None else self._session_file.load()
        nodes = [
            NodeClient(
                spec,
                user_id=self._user_id,
                client_name=self._client_name,
                http=self._http,
                handler=self.events,
                backoff=self._backoff,
                request_timeout_s=self._request_timeout_s,
            )
            for spec in self.specs
        ]
        self.registry.start(nodes, resumed=saved)  # our previous run's sessions, and players
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._recorder.run)
        for node in nodes:
            self._tg.start_soon(node.run)
            self._tg.start_soon(self.watch.probe_loop, node)
        with anyio.move_on_after(self._startup_timeout_s):
            async with anyio.create_task_group() as waits:
                for node in nodes:
                    waits.start_soon(self._await_start, node)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.events.closing = True
        tg, self._tg = self._tg, None
        with anyio.move_on_after(2.0, shield=True):
            await self._recorder.drain()  # the last moves' audit events
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _await_start(self, node: NodeClient) -> None:
        await self.watch.first_probe(node.name)
        if self.registry.health(node.name).status is NodeStatus.UP:
            await node.wait_ready()
            await self.events.settled(node.name)  # resumed players adopted before we return

    def _spawn(self, func: Callable[..., Coroutine[Any, Any, None]], *args: object) -> None:
        if self._tg is not None:
            self._tg.start_soon(func, *args)

    # -- reading -------------------------------------------------------------------------------

    @property
    def counts(self) -> FailoverCounts:
        return self.reporter.counts

    def nodes(self) -> list[NodeView]:
        """Every node with its routing status, stats, latency and region (for /lavalink, panel)."""
        return self.registry.views()

    def views(self) -> list[NodeView]:
        return self.registry.views()

    def healths(self) -> list[NodeHealth]:
        return self.registry.healths()

    def status_of(self, name: NodeName) -> NodeStatus:
        return self.registry.status_of(name)

    def region_of(self, name: NodeName) -> Region:
        return self.registry.region_of(name)

    def node(self, name: NodeName) -> NodeClient:
        return self.registry.node(name)

    def problems(self) -> dict[NodeName, str]:
        return self.registry.problems()

    def session_ids(self) -> dict[NodeName, str]:
        return self.registry.session_ids()

    def records(self) -> list[PlayerRecord]:
        return self.store.records()

    def record(self, guild_id: GuildId) -> PlayerRecord | None:
        return self.store.record(guild_id)

    def player(self, guild_id: GuildId) -> PlayerInfo | None:
        return self.store.player(guild_id)

    def players(self) -> list[PlayerInfo]:
        return self.store.players()

    def displaced(self) -> list[Displacement]:
        return self.store.displaced()

    async def served_sources(self) -> frozenset[str]:
        """The source managers every answering routable node serves (`NodeSources`)."""
        return await self.sources.served()

    async def lyrics(self, guild_id: GuildId, *, skip_track_source: bool = False) -> Lyrics | None:
        """The lyrics of what the guild plays, through its node's LavaLyrics plugin."""
        return await NodeLyrics(self).current(guild_id, skip_track_source=skip_track_source)

    async def flush_records(self) -> None:
        """Write the queued health records and audit events now (tests, shutdown)."""
        await self._recorder.drain()
