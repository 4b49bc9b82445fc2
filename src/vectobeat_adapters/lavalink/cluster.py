"""`LavalinkCluster`: the regional node pool the bot plays through.

Nodes come from `NodeSpec`s (``LAVALINK_NODES``); each keeps a websocket (resumed after drops, see
`NodeClient`) and is probed on the `HealthPolicy`'s schedule. Node choice is the core's
`choose_node`; players are driven at the REST level (``PATCH /v4/sessions/{sid}/players/{guild}``),
so no Discord voice client is involved: the bot hands over voice data with `update_voice`.

A closed websocket marks its node down at once, a hung node is down after a streak of failed or
slow probes; either way its players move (`failover.migrate`) with every piece of their state.

``on_event(guild_id, event)`` is awaited in the node's websocket reader, in order: keep it quick
(hand long work to a task). Events from a node that no longer owns the guild's player are dropped;
a ``TrackStart`` that resumes a moved player has ``restored=True``, and every move (of a playing
or an idle player) is told with a `PlayerMoved` once the new node holds the player.
`PlayerInfo.node` names where the player runs, or is being rebuilt during a move.

Why aiohttp and not pomice's ``Node``: see `vectobeat_adapters.lavalink.node`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp
import anyio
import anyio.abc
import attrs

from vectobeat_adapters.lavalink import failover
from vectobeat_adapters.lavalink.model import (
    FailoverCounts,
    LavalinkEvent,
    LoadResult,
    NodeFailover,
    PlayerInfo,
    TrackEnd,
    TrackStart,
    parse_event,
)
from vectobeat_adapters.lavalink.node import Backoff, NodeClient, NodeRequestError
from vectobeat_adapters.lavalink.players import PlayerRecord, VoiceState
from vectobeat_adapters.lavalink.probe import probe_node
from vectobeat_adapters.lavalink.recorder import OffPathRecorder
from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_core.audit import AuditEvent
from vectobeat_core.displacement import Displacement, displacement
from vectobeat_core.errors import (
    ConfigError,
    InvalidInput,
    NodeUnavailable,
    NotFound,
)
from vectobeat_core.health import (
    HealthPolicy,
    NodeHealth,
    NodeStatus,
    ProbeResult,
    Transition,
    WsEvent,
    next_probe_delay,
    observe,
)
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import AuditLog, Clock, HealthStore
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec, NodeStats, NodeView, choose_node, penalty
from vectobeat_core.tracks import Track

__all__ = ["DEFAULT_POLICY", "EventCallback", "FailoverCallback", "LavalinkCluster"]

_log = logging.getLogger("vectobeat.lavalink")

EventCallback = Callable[[GuildId, LavalinkEvent], Awaitable[None]]
FailoverCallback = Callable[[NodeFailover], Awaitable[None]]
StatusCallback = Callable[[NodeName, NodeStatus], None]
"""Told each node status change (must not block: the bot's alarms only wake up)."""
#: Probes every 0.5 s: a hung node is down within 2.5 s (``detection_bound_s``), leaving
#: half a second of margin under the 3 s promise for a busy event loop.
DEFAULT_POLICY = HealthPolicy(probe_interval_s=0.5)
_LEAD_FACTOR = 0.5  # a PATCH takes effect about half a round trip after it is sent


class LavalinkCluster:
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
        if not specs:
            raise ConfigError("No Lavalink node is configured: set LAVALINK_NODES.")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ConfigError("Lavalink node names must be unique.")
        if user_id <= 0:
            raise ConfigError("The bot's user id must be a positive snowflake.")
        if move_concurrency < 1:
            raise ConfigError("move_concurrency must be at least 1.")
        self.specs = tuple(specs)
        self.policy = policy or DEFAULT_POLICY
        self.return_hold_s = return_hold_s
        self.move_concurrency = move_concurrency
        self.clock = clock
        self.audit = audit
        self._user_id = user_id
        self._client_name = client_name
        self._recorder = OffPathRecorder(health_store, audit, health_ttl_s=health_ttl_s)
        self._on_event = on_event
        self._on_failover = on_failover
        self._on_status = on_status
        self._startup_timeout_s = startup_timeout_s
        self._request_timeout_s = request_timeout_s
        self._backoff = backoff
        self._spec = {s.name: s for s in specs}
        self._nodes: dict[NodeName, NodeClient] = {}
        self._health: dict[NodeName, NodeHealth] = {}
        self._stats: dict[NodeName, NodeStats] = {}
        self._probed: dict[NodeName, anyio.Event] = {}
        self._players: dict[GuildId, PlayerRecord] = {}
        self._counts = FailoverCounts()
        self._http: aiohttp.ClientSession | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._started = (0.0, 0.0)
        self._rtt: dict[NodeName, float] = {}
        self._closing = False
        self._session_file = sessions
        self._settled: dict[NodeName, anyio.Event] = {}
        self._adopt: set[NodeName] = set()

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> LavalinkCluster:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=None)
        )
        now = self.clock.now()
        self._started = (now, time.monotonic())
        saved = {} if self._session_file is None else self._session_file.load()
        for spec in self.specs:
            self._nodes[spec.name] = NodeClient(
                spec,
                user_id=self._user_id,
                client_name=self._client_name,
                http=self._http,
                handler=self,
                backoff=self._backoff,
                request_timeout_s=self._request_timeout_s,
            )
            self._health[spec.name] = NodeHealth.initial(spec.name, now)
            self._probed[spec.name] = anyio.Event()
            self._settled[spec.name] = anyio.Event()
            if spec.name in saved:  # resume the session of our previous run, and its players
                self._nodes[spec.name].session_id = saved[spec.name]
                self._adopt.add(spec.name)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._recorder.run)
        for node in self._nodes.values():
            self._tg.start_soon(node.run)
            self._tg.start_soon(self._probe_loop, node)
        with anyio.move_on_after(self._startup_timeout_s):
            async with anyio.create_task_group() as waits:
                for node in self._nodes.values():
                    waits.start_soon(self._await_start, node)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
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
        await self._probed[node.name].wait()
        if self._health[node.name].status is NodeStatus.UP:
            await node.wait_ready()
            await self._settled[node.name].wait()  # resumed players adopted before we return

    def _spawn(self, func: Callable[..., Coroutine[Any, Any, None]], *args: object) -> None:
        if self._tg is not None:
            self._tg.start_soon(func, *args)

    # -- health --------------------------------------------------------------------------------

    async def _probe_loop(self, node: NodeClient) -> None:
        while True:
            try:
                outcome = await probe_node(node, self.policy.probe_timeout_s)
                if outcome.stats is not None:
                    self._stats[node.name] = outcome.stats
                await self._observe(node.name, outcome.result)
            except Exception:  # a bug must not stop health checks (and the cluster with them)
                _log.exception("lavalink_probe_loop_failed node=%s", node.name)
            self._probed[node.name].set()
            await anyio.sleep(next_probe_delay(self._health[node.name], self.policy))

    async def _observe(self, name: NodeName, event: ProbeResult | WsEvent) -> None:
        now = self.clock.now()
        health, transition = observe(self._health[name], event, self.policy, now)
        self._health[name] = health
        self._recorder.health(health)  # off the probe path: a stalled store never delays it
        if transition is not None:
            why = getattr(event, "error", None) or getattr(event, "reason", None) or ""
            await self._on_transition(transition, str(why))

    async def _on_transition(self, transition: Transition, why: str) -> None:
        name = transition.node
        _log.log(
            logging.INFO if transition.routine else logging.WARNING,
            "lavalink_node_status node=%s from=%s to=%s event=%s why=%s",
            name,
            transition.from_status.value,
            transition.to_status.value,
            transition.event.value,
            why,
        )
        if self._on_status is not None:
            self._on_status(name, transition.to_status)
        if transition.to_status is NodeStatus.DOWN:
            reason = f"node {name} is down ({transition.event.value}{': ' + why if why else ''})"
            self._spawn(failover.migrate, self, name, reason)
        elif transition.to_status is NodeStatus.UP:
            self._spawn(failover.reconcile, self, self._nodes[name])
            self._spawn(failover.rebuild_lost, self, self._nodes[name])
            self._spawn(failover.place_stranded, self)

    def _lag(self, state: object) -> float:
        """How long ago (in clock seconds) the node read a ``playerUpdate`` position.

        A busy event loop reads websocket messages late; the update's ``time`` (node wall
        clock) says by how much. Scaled by the clock's rate (1 in production, the playback
        speed under an accelerated test clock); ignored when clocks disagree by seconds.
        """
        sent = state.get("time") if isinstance(state, Mapping) else None
        if isinstance(sent, bool) or not isinstance(sent, int | float):
            return 0.0
        lag = time.time() - sent / 1000.0
        if not 0.0 < lag < 5.0:
            return 0.0
        return lag * self._rate()

    def _rate(self) -> float:
        """Clock seconds per wall second: 1 for a wall clock, the speed of an accelerated one."""
        elapsed = time.monotonic() - self._started[1]
        if elapsed < 0.5:
            return 1.0
        return max((self.clock.now() - self._started[0]) / elapsed, 0.0)

    def status_of(self, name: NodeName) -> NodeStatus:
        """Routing status: a node without a live websocket session or with a problem is down."""
        node = self._nodes.get(name)
        if node is None or node.problem is not None or not node.connected:
            return NodeStatus.DOWN
        return self._health[name].status

    def views(self) -> list[NodeView]:
        return [
            NodeView(
                spec,
                self.status_of(spec.name),
                self._stats.get(spec.name),
                self._health[spec.name].last_latency_ms if spec.name in self._health else None,
            )
            for spec in self.specs
        ]

    def healths(self) -> list[NodeHealth]:
        return [self._health[s.name] for s in self.specs if s.name in self._health]

    def region_of(self, name: NodeName) -> Region:
        return self._spec[name].region

    def node(self, name: NodeName) -> NodeClient:
        return self._nodes[name]

    def records(self) -> list[PlayerRecord]:
        return list(self._players.values())

    def session_ids(self) -> dict[NodeName, str]:
        """Each node's current Lavalink session id (what a restart resumes)."""
        return {n.name: n.session_id for n in self._nodes.values() if n.session_id is not None}

    def adopting(self, name: NodeName) -> bool:
        """Whether ``name``'s first session after a restart is still being taken over."""
        return name in self._adopt

    def keep(self, record: PlayerRecord) -> None:
        """Track ``record`` (a player adopted from a resumed session)."""
        self._players[record.guild_id] = record

    def record(self, guild_id: GuildId) -> PlayerRecord | None:
        return self._players.get(guild_id)

    def count(self, **increments: int) -> None:
        self._counts = attrs.evolve(
            self._counts, **{k: getattr(self._counts, k) + v for k, v in increments.items()}
        )

    def record_audit(self, event: AuditEvent) -> None:
        """Audit ``event`` off the failover path (`OffPathRecorder`)."""
        self._recorder.audit(event)

    async def flush_records(self) -> None:
        """Write the queued health records and audit events now (tests, shutdown)."""
        await self._recorder.drain()

    # -- NodeHandler -----------------------------------------------------------------------------

    async def node_ready(self, node: NodeClient, resumed: bool) -> None:
        await self._observe(node.name, WsEvent(open=True))
        if node.name in self._adopt:
            if resumed:
                await failover.adopt(self, node)  # before the bot restores queues onto them
            self._adopt.discard(node.name)
        elif resumed:
            self._spawn(failover.reconcile, self, node)
        elif self.status_of(node.name) is NodeStatus.UP:
            self._spawn(failover.rebuild_lost, self, node)  # else when it is up again
        self._settled[node.name].set()
        if self._session_file is not None:
            self._spawn(self._session_file.save, self.session_ids())

    async def node_closed(self, node: NodeClient, reason: str) -> None:
        if not self._closing:  # our own shutdown closes every websocket: not an outage
            await self._observe(node.name, WsEvent(open=False, reason=reason))

    async def node_stats(self, node: NodeClient, stats: NodeStats) -> None:
        self._stats[node.name] = stats

    async def node_bad_payload(self, node: NodeClient, problem: str) -> None:
        self.count(bad_payloads=1)
        _log.warning("lavalink_bad_payload node=%s problem=%s", node.name, problem)

    async def node_message(self, node: NodeClient, op: str, payload: Mapping[str, Any]) -> None:
        raw_guild = payload.get("guildId")
        if not isinstance(raw_guild, str) or not raw_guild.isdigit():
            await self.node_bad_payload(node, f"a {op} op without a valid guildId")
            return
        record = self._players.get(GuildId(int(raw_guild)))
        if record is None or record.node != node.name:
            return  # a player this node no longer owns (moved away): ignore it
        now = self.clock.now()
        if op == "playerUpdate":
            state = payload.get("state")
            if not record.lock.locked() and record.fresh(state):
                record.note_state(state, now - self._lag(state))
            return
        try:
            event = parse_event(record.guild_id, payload)
        except InvalidInput as exc:
            await self.node_bad_payload(node, str(exc))
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
        await self.emit(event)

    async def emit(self, event: LavalinkEvent) -> None:
        """Hand ``event`` to ``on_event``; its failure is logged, never raised into the cluster."""
        if self._on_event is not None:
            try:
                await self._on_event(event.guild_id, event)
            except Exception:
                _log.exception("lavalink_event_callback_failed guild=%s", event.guild_id)

    async def failed_over(self, summary: NodeFailover) -> None:
        """Hand a finished node failover to ``on_failover``; its failure is logged, not raised."""
        if self._on_failover is not None:
            try:
                await self._on_failover(summary)
            except Exception:
                _log.exception("lavalink_failover_callback_failed node=%s", summary.node)

    # -- public API ----------------------------------------------------------------------------

    @property
    def counts(self) -> FailoverCounts:
        return self._counts

    def nodes(self) -> list[NodeView]:
        """Every node with its routing status, stats, latency and region (for /lavalink, panel)."""
        return self.views()

    def problems(self) -> dict[NodeName, str]:
        """Nodes that cannot be used at all (e.g. not Lavalink v4), with the reason."""
        return {n.name: n.problem for n in self._nodes.values() if n.problem is not None}

    def player(self, guild_id: GuildId) -> PlayerInfo | None:
        record = self._players.get(guild_id)
        if record is None:
            return None
        return record.info(self.clock.now(), self.region_of(record.node))

    def displaced(self) -> list[Displacement]:
        """Players of pinned guilds running outside their region (the core's `displacement`)."""
        found = (
            displacement(r.guild_id, r.decision.effective, self.region_of(r.node), r.node)
            for r in self._players.values()
        )
        return [d for d in found if d is not None]

    def players(self) -> list[PlayerInfo]:
        now = self.clock.now()
        return [r.info(now, self.region_of(r.node)) for r in self._players.values()]

    async def load_tracks(self, query: str) -> LoadResult:
        """Resolve ``query`` on the least loaded healthy node, trying the others if it fails."""
        if not query.strip():
            raise InvalidInput("Say what to play: a link or some words to search for.")
        ranked = sorted(
            (v for v in self.views() if v.routable),
            key=lambda v: (v.status is not NodeStatus.UP, penalty(v.stats), v.name),
        )
        problems: list[str] = []
        for view in ranked:
            try:
                payload = await self._nodes[view.name].request(
                    "GET", "/v4/loadtracks", query={"identifier": query}
                )
                return LoadResult.from_lavalink(payload)
            except (NodeUnavailable, InvalidInput) as exc:
                problems.append(str(exc))
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise NodeUnavailable(f"No Lavalink node could load tracks right now{detail}.")

    async def ensure_player(self, guild_id: GuildId, decision: RegionDecision) -> PlayerInfo:
        """The guild's player, placed on the best node of its effective region when new."""
        record = self._players.get(guild_id)
        now = self.clock.now()
        if record is not None:
            record.decision = decision  # a region change applies at the next track boundary
            return record.info(now, self.region_of(record.node))
        choice = choose_node(self.views(), decision)
        record = PlayerRecord(guild_id, decision, choice.node, read_at=now)
        self._players[guild_id] = record
        event = AuditEvent.effective_region(guild_id, decision, choice.node, now)
        data: dict[str, JSON] = {
            **event.data,
            "routing": choice.reason_code,
            "routing_reason": choice.reason,
        }
        self.record_audit(attrs.evolve(event, data=data))
        if choice.reason_code == "region_unavailable":
            self.record_audit(
                AuditEvent.region_unavailable(
                    guild_id, decision.effective, choice.node, choice.region, now
                )
            )
        return record.info(now, choice.region)

    def _require(self, guild_id: GuildId) -> PlayerRecord:
        record = self._players.get(guild_id)
        if record is None:
            raise NotFound(f"There is no player for guild {guild_id}; start playback first.")
        return record

    async def update_voice(
        self,
        guild_id: GuildId,
        *,
        session_id: str,
        token: str,
        endpoint: str,
        channel_id: ChannelId,
    ) -> None:
        """Discord's voice state and server update; kept so a failover can restore voice."""
        if not (session_id and token and endpoint):
            raise InvalidInput("Voice data needs a session id, a token and an endpoint.")
        record = self._require(guild_id)
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
        """Play ``track`` (a track boundary: a player away from its region may move back here)."""
        _check_volume(volume)
        if start_ms < 0 or (end_ms is not None and end_ms <= 0):
            raise InvalidInput("Start and end positions must be positive.")
        record = self._require(guild_id)
        async with record.lock:
            returned_from = await failover.maybe_return(self, record)
            now = self.clock.now()
            was_paused = record.paused
            record.track = track
            record.end_ms = end_ms
            record.aim(start_ms, now)
            record.paused = paused
            record.volume = volume
            if filters is not None:
                record.filters = dict(filters)
            fresh = not record.held_by(record.node, self._nodes[record.node].session_id)
            await self._send(record, record.full_body(now, fresh=fresh, was_paused=was_paused))
            if returned_from is not None:
                await failover.finish_return(self, record, returned_from)

    async def set_paused(self, guild_id: GuildId, paused: bool) -> None:
        record = self._require(guild_id)
        async with record.lock:
            now = self.clock.now()
            record.rebase(record.position_now(now), now)
            record.paused = paused
            await self._send(record, {"paused": paused})

    async def seek(self, guild_id: GuildId, ms: int) -> None:
        if ms < 0:
            raise InvalidInput("A position must be 0 or more.")
        record = self._require(guild_id)
        async with record.lock:
            record.aim(ms, self.clock.now())
            await self._send(record, {"position": ms})

    async def set_volume(self, guild_id: GuildId, volume: int) -> None:
        _check_volume(volume)
        record = self._require(guild_id)
        async with record.lock:
            record.volume = volume
            await self._send(record, {"volume": volume})

    async def set_filters(self, guild_id: GuildId, filters: Mapping[str, JSON]) -> None:
        record = self._require(guild_id)
        async with record.lock:
            record.filters = dict(filters)
            await self._send(record, {"filters": dict(filters)})

    async def stop(self, guild_id: GuildId) -> None:
        record = self._require(guild_id)
        async with record.lock:
            record.track = None
            record.end_ms = None
            await self._send(record, {"track": {"encoded": None}})

    async def destroy(self, guild_id: GuildId) -> None:
        """Forget the guild's player and delete it from its node (best effort)."""
        record = self._players.pop(guild_id, None)
        if record is None or record.created_on is None:
            return
        async with record.lock:
            await failover.delete_player(self, record.created_on, guild_id)

    # -- sending -------------------------------------------------------------------------------

    async def patch_player(self, record: PlayerRecord, body: Mapping[str, JSON]) -> Any:
        """PATCH the record's player on its current node (no retry)."""
        node = self._nodes[record.node]
        if node.session_id is None or self.status_of(record.node) is NodeStatus.DOWN:
            raise NodeUnavailable(f"Lavalink node {record.node} is down.")
        started = time.perf_counter()
        answer = await node.request(
            "PATCH",
            f"/v4/sessions/{node.session_id}/players/{record.guild_id}",
            body=dict(body),
        )
        took = time.perf_counter() - started
        previous = self._rtt.get(record.node)
        self._rtt[record.node] = took if previous is None else previous * 0.8 + took * 0.2
        return answer

    def lead(self, name: NodeName) -> float:
        """Clock seconds between building a PATCH and the node applying it (recent round
        trips, scaled to the clock); a moved player's position is extrapolated that far ahead."""
        rtt = min(self._rtt.get(name, 0.0), 1.0)
        return rtt * _LEAD_FACTOR * self._rate()

    async def _send(self, record: PlayerRecord, body: Mapping[str, JSON]) -> None:
        """Apply ``body`` on the player's node; if that node fails, rebuild it elsewhere.

        A node whose session no longer holds the player (it restarted without resuming) would
        create an empty player from a partial update and answer 200: the player is rebuilt
        there from its state instead, so a success is never reported for a silent guild.
        """
        node = self._nodes[record.node]
        if record.created_on is not None and not record.held_by(record.node, node.session_id):
            body = record.full_body(self.clock.now(), fresh=True)
        try:
            answer = await self.patch_player(record, body)
        except NodeRequestError as exc:
            if not exc.retry_elsewhere:
                raise
            await failover.relocate(self, record, reason=str(exc))
            return
        except NodeUnavailable as exc:
            await failover.relocate(self, record, reason=str(exc))
            return
        record.created_on = record.node
        record.created_session = node.session_id
        record.stranded = False
        self.note_answer(record, answer)

    def note_answer(self, record: PlayerRecord, answer: Any) -> None:
        """Take the position from a PATCH answer, read when the node wrote it."""
        state = answer.get("state") if isinstance(answer, Mapping) else None
        record.note_player(answer, self.clock.now() - self._lag(state))


def _check_volume(volume: int) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= 1000:
        raise InvalidInput("Volume must be a whole number from 0 to 1000.")
