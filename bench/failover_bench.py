"""Failover benchmark: LavalinkCluster at scale, against a floor measured in the same run.

Four fake Lavalink v4 nodes in two regions (us-1, us-2, eu-1, eu-2; ``vectobeat_testkit``) run in a
child process of their own, as real Lavalink does, each sending every player's ``playerUpdate`` at
Lavalink's default 5 s. Guild and user ids are realistic 19-digit snowflakes. Scenarios:

1. **kill**: N players (10,000 by default; half per region, spread over the four nodes by the
   cluster's own routing) play, one in ten paused; us-1 is killed. Figures: time from the kill to
   the last of its players resumed (when the cluster told its last ``PlayerMoved``: the new node
   answered the move); the **floor**: a bare aiohttp client sending the same PATCHes to the same
   node (us-2) at ``LavalinkCluster.move_concurrency``, on a session of its own: once right before
   the kill (the bodies built as the moves build them) and twice after it (the bodies the node
   recorded), the median counting; their ratio; position drift per player (its position on the
   new node minus where it would be had nothing happened, from a snapshot of us-1 just before the
   kill); players resumed in their region. Then eu-1 hangs (answers nothing): detection time and
   time to its last player moved.
2. **redis**: the same kill with the cluster's health store a real ``RedisHealthStore`` on the
   local Redis (a private key namespace, deleted at the end) through a ``FaultProxy`` that
   blackholes Redis just before the kill. Failover must not wait on Redis: the same figures.
3. **slow**: the same kill on the ``slow-replies`` profile (a node with 8 or more REST requests in
   the last second answers each in 2 s). The profile is switched on, on every node, just before
   the kill (setting up at 8 requests a second would take minutes). At 2 s a PATCH and 16 at a
   time a move takes 1/8 s, so this runs fewer players (``--slow-players``). Figures: the same,
   plus players moved twice and nodes falsely marked down (sampled every 5 ms, and counted from
   the cluster's own status transitions).
4. **restart**: a bot (a ``LavalinkCluster`` in a child process) plays 1,000 guilds, is SIGKILLed,
   restarted at once, and re-plays its guilds from a saved list (positions extrapolated, as the
   bot's queue snapshots are). The fleet process samples every node's sessions every 20 ms:
   per-guild audio gap (time with no playing player) and duplicates (a guild playing in two
   sessions at once). The restarted bot resumes its sessions (their ids kept in a file, as the
   bot keeps them in BOT_DATA_DIR) and adopts their players: goal 0 s of gap and 0 duplicates; on
   a ``no-resume`` server the players stop at the kill (a gap until they are re-played).
5. **pomice**: pomice 2.11's ``NodePool(fallback=True)`` with its players on us-1, us-1 killed.

Goals: kill to last resumed within 1.5x the floor, drift p99 <= 250 ms, 100% resumed in region,
hung detection <= 3 s, the same with Redis blackholed, no player moved twice and no node falsely
marked down on slow replies. The machine may be shared: every floor run is printed. Benches print,
they never assert: the last line is one JSON object with every figure.

Run: ``python bench/failover_bench.py`` (about 4 minutes on 2 cores); ``--quick`` (1,000 players,
200 on slow replies and in the restart, a 10 s restart window); ``--players N`` and the other
sizes; ``--skip-pomice``. Through nox: ``nox -s bench -- failover_bench --quick``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import math
import multiprocessing
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs

from vectobeat_adapters.lavalink import LavalinkCluster
from vectobeat_adapters.lavalink.model import LavalinkEvent, PlayerMoved
from vectobeat_adapters.lavalink.sessions import SESSION_FILE, SessionFile
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.redis import RedisHealthStore, RedisKeys, open_redis
from vectobeat_adapters.services import SystemClock
from vectobeat_core.audit import AuditKind
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.ports import HealthStore
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec
from vectobeat_core.tracks import Track
from vectobeat_testkit.faultproxy import FaultProxy
from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode, ServerProfile, parse_profiles

PASSWORD = "youshallnotpass"  # noqa: S105 - Lavalink's documented default
BOT_ID = 1_180_000_000_000_000_001
"""The bot's user id: a 19-digit snowflake (a real server refuses a 16-digit ``User-Id``)."""
GUILD_BASE = 1_190_000_000_000_000_000
NAMES = (("us", "us-1"), ("us", "us-2"), ("eu", "eu-1"), ("eu", "eu-2"))
KILLED = "us-1"
HUNG = "eu-1"
PLAYER_UPDATES_S = 5.0
"""Seconds between a player's playerUpdate ops: Lavalink's default ``playerUpdateInterval``."""
SLOW_PROFILE = "slow-replies"
RESUME_TIMEOUT_S = 60.0
"""How long a node keeps a dropped session's players (`NodeClient`'s ``resume_timeout_s``)."""
WATCH_INTERVAL_S = 0.02


def snowflake(n: int) -> int:
    """The ``n``-th guild id: a 19-digit snowflake, spaced as ids minted ms apart would be."""
    return GUILD_BASE + n * 4_194_304


def make_catalogue() -> Catalogue:
    """The same catalogue in every process (identifiers make the encodings identical)."""
    catalogue = Catalogue()
    for n in range(50):
        catalogue.add(f"Song {n}", f"Artist {n}", 900_000, identifier=f"song{n:04d}")
    return catalogue


Snapshot = tuple[float, dict[int, tuple[int, bool, str | None]]]


# -- the fleet: four fake nodes in a child process -------------------------------------------


class PlayWatch:
    """In the fleet process: which watched guilds play, and in how many sessions, every 20 ms.

    A guild *plays* in a session when that session's player has a track and is not paused (a
    paused session, dropped by its client and waiting to be resumed, plays on, as in Lavalink).
    """

    def __init__(self, nodes: dict[str, FakeLavalinkNode], guilds: set[int]) -> None:
        self._nodes = nodes
        self._guilds = guilds
        self.gap_s: dict[int, float] = dict.fromkeys(guilds, 0.0)
        self.samples = 0
        self.max_interval_s = 0.0
        self.max_duplicates = 0
        self.duplicates_now = 0
        self.silent_now = 0
        self.first_duplicate_at: float | None = None
        self.last_duplicate_at: float | None = None
        self.max_silent = 0

    def _playing(self) -> collections.Counter[int]:
        counts: collections.Counter[int] = collections.Counter()
        for node in self._nodes.values():
            for session in node.sessions.values():
                for guild, player in session.players.items():
                    if player.playing and guild in self._guilds:
                        counts[guild] += 1
        return counts

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            step, last = now - last, now
            counts = self._playing()
            silent = [g for g in self._guilds if counts[g] == 0]
            for guild in silent:
                self.gap_s[guild] += step
            duplicates = sum(1 for c in counts.values() if c > 1)
            self.samples += 1
            self.max_interval_s = max(self.max_interval_s, step)
            self.duplicates_now, self.silent_now = duplicates, len(silent)
            self.max_duplicates = max(self.max_duplicates, duplicates)
            self.max_silent = max(self.max_silent, len(silent))
            if duplicates:
                wall = time.time()
                self.first_duplicate_at = self.first_duplicate_at or wall
                self.last_duplicate_at = wall

    def summary(self) -> dict[str, Any]:
        return {
            "gaps_s": sorted(self.gap_s.values()),
            "samples": self.samples,
            "max_interval_s": self.max_interval_s,
            "max_duplicates": self.max_duplicates,
            "duplicates_at_end": self.duplicates_now,
            "silent_at_end": self.silent_now,
            "max_silent": self.max_silent,
            "first_duplicate_at": self.first_duplicate_at,
            "last_duplicate_at": self.last_duplicate_at,
        }


def _player_patches(node: FakeLavalinkNode, since: int) -> list[tuple[str, Any]]:
    return [
        (r.path, r.body)
        for r in node.requests[since:]
        if r.method == "PATCH" and "/players/" in r.path
    ]


async def _serve_fleet(conn: Connection, profile: str) -> None:
    """The child process: four fake nodes (on server ``profile``) and a command loop."""
    catalogue = make_catalogue()
    nodes: dict[str, FakeLavalinkNode] = {}
    for region, name in NAMES:
        nodes[name] = await FakeLavalinkNode(
            password=PASSWORD,
            name=name,
            region=region,
            catalogue=catalogue,
            player_update_interval=PLAYER_UPDATES_S,
            stats_interval=60.0,
            profile=parse_profiles(profile),
        ).start()
    conn.send({name: node.base_url for name, node in nodes.items()})
    loop = asyncio.get_running_loop()
    watch: tuple[PlayWatch, asyncio.Task[None]] | None = None
    while True:
        command, name, arg = await loop.run_in_executor(None, conn.recv)
        node = nodes.get(name)
        if command == "stop":
            if watch is not None:
                watch[1].cancel()
            for each in nodes.values():
                await each.stop()
            conn.send(None)
            return
        if command == "watch":
            found = PlayWatch(nodes, set(arg))
            watch = (found, loop.create_task(found.run()))
            conn.send(None)
            continue
        if command == "watch_status":
            conn.send(None if watch is None else (watch[0].duplicates_now, watch[0].silent_now))
            continue
        if command == "watch_stop":
            assert watch is not None
            watch[1].cancel()
            conn.send(watch[0].summary())
            watch = None
            continue
        assert node is not None
        if command == "snapshot":
            players = node.players
            at = time.time()
            conn.send(
                (
                    at,
                    {
                        g: (p.position, p.paused, p.track["encoded"] if p.track else None)
                        for g, p in players.items()
                    },
                )
            )
        elif command == "kill":
            at = time.time()
            await node.kill()
            conn.send(at)
        elif command == "hang":
            node.hang()
            conn.send(time.time())
        elif command == "revive":
            await node.revive()
            conn.send(None)
        elif command == "profile":
            # The bench's one reach inside the fake: a profile is fixed when a node is built, and
            # these nodes must first take N players at full speed.
            node._engine.profile = arg
            conn.send(None)
        elif command == "request_count":
            conn.send(len(node.requests))
        elif command == "cpu":
            conn.send(time.process_time())
        elif command == "player_patches":
            conn.send(_player_patches(node, int(arg)))
        elif command == "requests":
            conn.send(len(_player_patches(node, int(arg))))


def _fleet_process(conn: Connection, profile: str) -> None:
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(_serve_fleet(conn, profile))


class FakeFleet:
    """Four fake nodes in a child process (as Lavalink runs in its own), driven over a pipe;
    ``profile`` names server profiles they all show from the start (``""``: none)."""

    def __init__(self, profile: str = "") -> None:
        self.catalogue = make_catalogue()
        self.songs = list(self.catalogue.tracks)
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_fleet_process, args=(child, profile), daemon=True
        )
        self._lock = asyncio.Lock()
        self.urls: dict[str, str] = {}

    async def _ask(self, command: str, name: str = "", arg: object = None) -> Any:
        loop = asyncio.get_running_loop()

        def roundtrip() -> Any:
            self._conn.send((command, name, arg))
            return self._conn.recv()

        async with self._lock:
            return await loop.run_in_executor(None, roundtrip)

    async def start(self) -> None:
        self._process.start()
        loop = asyncio.get_running_loop()
        self.urls = await loop.run_in_executor(None, self._conn.recv)

    async def stop(self) -> None:
        await self._ask("stop")
        self._process.join(5)

    def specs(self) -> tuple[NodeSpec, ...]:
        return specs_of(self.urls)

    def host_port(self, name: str) -> tuple[str, int]:
        host, port = self.urls[name].removeprefix("http://").split(":")
        return host, int(port)

    async def snapshot(self, name: str) -> Snapshot:
        """(wall time, {guild: (position, paused, encoded track)}) read in one go on the node."""
        answer: Snapshot = await self._ask("snapshot", name)
        return answer

    async def kill(self, name: str) -> float:
        return float(await self._ask("kill", name))

    async def hang(self, name: str) -> float:
        return float(await self._ask("hang", name))

    async def revive(self, name: str) -> None:
        await self._ask("revive", name)

    async def set_profile(self, name: str, profile: ServerProfile) -> None:
        await self._ask("profile", name, profile)

    async def request_count(self, name: str) -> int:
        return int(await self._ask("request_count", name))

    async def cpu_s(self) -> float:
        """CPU seconds the fleet process has used so far."""
        return float(await self._ask("cpu", NAMES[0][1]))

    async def player_requests_since(self, name: str, index: int) -> int:
        return int(await self._ask("requests", name, index))

    async def player_patches_since(self, name: str, index: int) -> list[tuple[str, Any]]:
        """``(path, body)`` of every player PATCH ``name`` received since request ``index``."""
        answer: list[tuple[str, Any]] = await self._ask("player_patches", name, index)
        return answer

    async def watch(self, guilds: Sequence[int]) -> None:
        """Start sampling where ``guilds`` play (`PlayWatch`)."""
        await self._ask("watch", "", list(guilds))

    async def watch_status(self) -> tuple[int, int]:
        """(guilds playing twice, guilds silent) at the last sample."""
        duplicates, silent = await self._ask("watch_status")
        return int(duplicates), int(silent)

    async def watch_stop(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self._ask("watch_stop")
        return answer


def specs_of(urls: dict[str, str]) -> tuple[NodeSpec, ...]:
    return tuple(
        NodeSpec(NodeName(name), Region(region), urls[name], PASSWORD, False)
        for region, name in NAMES
    )


def track_of(catalogue: Catalogue, n: int) -> Track:
    songs = list(catalogue.tracks)
    song = songs[n % len(songs)]
    return Track.from_lavalink(catalogue.load(song.identifier)["data"])


def drift_stats(
    before: Snapshot, after: dict[int, tuple[float, tuple[int, bool, str | None]]]
) -> dict[str, float]:
    at0, players0 = before
    drifts: list[float] = []
    for guild, (at1, (position, _paused, _track)) in after.items():
        if guild not in players0:
            continue  # it had already moved (a PATCH that timed out under load)
        pos0, paused0, _ = players0[guild]
        expected = pos0 if paused0 else pos0 + (at1 - at0) * 1000.0
        drifts.append(abs(position - expected))
    return percentiles(drifts)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max (NaN when there is nothing to measure)."""
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


async def resumed_on(
    fleet: FakeFleet, guilds: set[int], expected_tracks: dict[int, str], exclude: str
) -> dict[int, tuple[str, float, tuple[int, bool, str | None]]]:
    """Where each guild plays now (node, read time, state), its own track on a live node."""
    found: dict[int, tuple[str, float, tuple[int, bool, str | None]]] = {}
    for _region, name in NAMES:
        if name == exclude:
            continue
        at, players = await fleet.snapshot(name)
        for guild, state in players.items():
            if guild in guilds and state[2] == expected_tracks[guild]:
                found[guild] = (name, at, state)
    return found


async def wait_until(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


# -- scenarios 1-3: a node killed under 10,000 players ---------------------------------------


@attrs.frozen
class KillScenario:
    """One kill run: how many players, which health store, which server profile, and a hang."""

    name: str
    players: int
    redis_port: int | None = None
    """Blackhole Redis (the cluster's health store) just before the kill."""
    slow: bool = False
    hang: bool = False


@contextlib.asynccontextmanager
async def health_store_for(
    scenario: KillScenario, clock: SystemClock, notes: dict[str, Any]
) -> AsyncIterator[tuple[HealthStore, FaultProxy | None, str]]:
    """A memory store, or a `RedisHealthStore` in a private namespace behind a `FaultProxy`
    (with the namespace)."""
    if scenario.redis_port is None:
        yield MemoryHealthStore(clock), None, ""
        return
    keys = RedisKeys(f"vbbench-{secrets.token_hex(4)}:")
    notes["redis_namespace"] = keys.namespace
    async with FaultProxy(scenario.redis_port) as proxy:
        try:
            async with open_redis(f"redis://127.0.0.1:{proxy.port}/0") as conn:
                yield RedisHealthStore(conn, keys), proxy, keys.namespace
        finally:
            proxy.heal()
            notes["redis_keys_deleted"] = await delete_namespace(scenario.redis_port, keys)


async def delete_namespace(port: int, keys: RedisKeys) -> int:
    """Delete the bench's keys (straight to Redis, not through the proxy)."""
    async with open_redis(f"redis://127.0.0.1:{port}/0") as conn:

        async def op(client: Any) -> int:
            found = [k async for k in client.scan_iter(match=keys.namespace + "*", count=500)]
            return int(await client.delete(*found)) if found else 0

        return await conn.run("deleting the bench's keys", op)


async def count_namespace(port: int, keys_namespace: str) -> int:
    async with open_redis(f"redis://127.0.0.1:{port}/0") as conn:

        async def op(client: Any) -> int:
            return len([k async for k in client.scan_iter(match=keys_namespace + "*", count=500)])

        return await conn.run("counting the bench's keys", op)


def regions_for(n: int) -> list[Region]:
    """Half the players in each region."""
    return [Region.US if i % 2 == 0 else Region.EU for i in range(n)]


async def start_players(
    cluster: LavalinkCluster,
    catalogue: Catalogue,
    guilds: Sequence[tuple[int, GuildId, Region]],
    tracks: dict[int, str],
) -> None:
    """Play each guild as the bot does: a player, its voice, then its track (one in ten paused)."""
    sem = asyncio.Semaphore(64)

    async def start(i: int, guild: GuildId, region: Region) -> None:
        async with sem:
            decision = RegionDecision(region, region, False, "as_requested", "bench")
            await cluster.ensure_player(guild, decision)
            await cluster.update_voice(
                guild, session_id=f"s{guild}", token=f"t{guild}",
                endpoint="us-east1.discord.media:443", channel_id=ChannelId(guild + 1),
            )  # fmt: skip
            track = track_of(catalogue, i)
            tracks[int(guild)] = track.encoded
            await cluster.play(guild, track, start_ms=30_000 + (i % 100) * 1000, paused=i % 10 == 0)

    await asyncio.gather(*(start(i, g, r) for i, g, r in guilds))


async def watch_failover(
    cluster: LavalinkCluster, target: int, killed: str, within: float
) -> set[str]:
    """Poll every 5 ms until ``target`` players moved in all (or ``within`` s); the other
    nodes seen down meanwhile (a false down)."""
    deadline = time.monotonic() + within
    false_downs: set[str] = set()
    while cluster.counts.players_moved < target and time.monotonic() < deadline:
        false_downs |= {
            h.node for h in cluster.healths() if h.node != killed and h.status is NodeStatus.DOWN
        }
        await asyncio.sleep(0.005)
    return false_downs


class MoveLog:
    """The cluster's ``on_event``: each `PlayerMoved` with the wall time it was told (the new
    node holds the player), independent of the audit log, which is written off the failover path."""

    def __init__(self) -> None:
        self.moves: list[tuple[float, PlayerMoved]] = []

    async def __call__(self, _guild: GuildId, event: LavalinkEvent) -> None:
        if isinstance(event, PlayerMoved):
            self.moves.append((time.time(), event))

    def times_from(self, node: str) -> list[float]:
        return [at for at, move in self.moves if move.from_node == node]


class ClusterLog(logging.Handler):
    """The cluster's own log lines: ``lavalink_node_status ... to=down`` counted per node, and
    when each ``lavalink_failover`` (a migration planned) was logged, per node."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.down: collections.Counter[str] = collections.Counter()
        self.planned_at: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == "lavalink_node_status node=%s from=%s to=%s event=%s why=%s":
            if args[2] == NodeStatus.DOWN.value:
                self.down[str(args[0])] += 1
        elif record.msg == "lavalink_failover node=%s players=%d moves=%d stranded=%d":
            self.planned_at.setdefault(str(args[0]), record.created)


async def kill_run(scenario: KillScenario, concurrency: int) -> dict[str, Any]:
    """Set up, kill ``KILLED``, measure; then the floor on the node that took its players."""
    fleet = FakeFleet()
    await fleet.start()
    audit = MemoryAuditLog()
    clock = SystemClock()
    moves = MoveLog()
    notes: dict[str, Any] = {}
    transitions = ClusterLog()
    cluster_log = logging.getLogger("vectobeat.lavalink")
    cluster_log.addHandler(transitions)
    cluster_log.setLevel(logging.WARNING)
    cluster_log.propagate = False  # counted, not printed
    result: dict[str, Any] = {"scenario": scenario.name, "players": scenario.players}
    started = time.perf_counter()
    try:
        async with health_store_for(scenario, clock, notes) as (store, proxy, namespace):
            cluster = LavalinkCluster(
                fleet.specs(), user_id=BOT_ID, client_name="VectoBeat/bench", clock=clock,
                audit=audit, health_store=store, move_concurrency=concurrency, on_event=moves,
            )  # fmt: skip
            async with cluster:
                result.update(
                    await _kill_and_measure(
                        scenario,
                        fleet=fleet,
                        cluster=cluster,
                        audit=audit,
                        moves=moves,
                        proxy=proxy,
                        namespace=namespace,
                    )
                )
                result["kill"]["planned_s"] = (
                    transitions.planned_at.get(KILLED, math.nan) - result["killed_at"]
                )
                transitions.down[KILLED] -= 1  # the one true down
                if scenario.hang:
                    transitions.down[HUNG] -= 1
                result["false_down_transitions"] = sum(max(v, 0) for v in transitions.down.values())
                if proxy is not None:
                    proxy.heal()  # the recorder's last writes go through before the exit
    except StorageUnavailable as exc:
        result["skipped"] = f"Redis unavailable: {exc}"
    finally:
        cluster_log.removeHandler(transitions)
        cluster_log.propagate = True
        await fleet.stop()
    result.update(notes)
    result["scenario_s"] = time.perf_counter() - started
    return result


async def _kill_and_measure(
    scenario: KillScenario,
    *,
    fleet: FakeFleet,
    cluster: LavalinkCluster,
    audit: MemoryAuditLog,
    moves: MoveLog,
    proxy: FaultProxy | None,
    namespace: str,
) -> dict[str, Any]:
    n = scenario.players
    guilds = [(i, GuildId(snowflake(i)), r) for i, r in enumerate(regions_for(n))]
    tracks: dict[int, str] = {}
    began = time.perf_counter()
    await start_players(cluster, fleet.catalogue, guilds, tracks)
    setup_s = time.perf_counter() - began
    per_node = collections.Counter(str(r.node) for r in cluster.records())
    victims = {int(r.guild_id) for r in cluster.records() if r.node == KILLED}
    target = next(name for region, name in NAMES if region == "us" and name != KILLED)
    await asyncio.sleep(1.0)
    result: dict[str, Any] = {"setup_s": setup_s, "placed": dict(sorted(per_node.items()))}
    floor_runs: list[tuple[float, float, float]] = []
    if scenario.slow:
        for _region, name in NAMES:
            await fleet.set_profile(name, parse_profiles(SLOW_PROFILE))
    else:  # the floor right before the kill too: the bodies the moves will send, built the same way
        early = [
            (str(r.guild_id), r.full_body(cluster.clock.now(), fresh=True))
            for r in cluster.records()
            if r.node == KILLED
        ]
        floor_runs.append(await patch_floor(fleet, target, early, cluster.move_concurrency))
        await asyncio.sleep(0.5)
    if proxy is not None and scenario.redis_port is not None:
        result["redis_health_keys_before_blackhole"] = await count_namespace(
            scenario.redis_port, namespace
        )
    before = await fleet.snapshot(KILLED)
    index = await fleet.request_count(target)
    if proxy is not None:
        proxy.blackhole()
    fleet_cpu = await fleet.cpu_s()
    cpu = time.process_time()
    killed_at = await fleet.kill(KILLED)
    result["killed_at"] = killed_at
    within = 20.0 + len(victims) * (2.5 / cluster.move_concurrency if scenario.slow else 0.01)
    moved = cluster.counts.players_moved + len(victims)
    false_downs = await watch_failover(cluster, moved, KILLED, within)
    cpu = time.process_time() - cpu
    fleet_cpu = await fleet.cpu_s() - fleet_cpu
    if scenario.slow:  # a second move would come after the first wave: watch a little longer
        false_downs |= await watch_failover(cluster, moved + 1, KILLED, 3.0)
    audited = len(await audit.recent(None, limit=10 * n, kinds=[AuditKind.NODE_FAILOVER]))
    found = await resumed_on(fleet, victims, tracks, exclude=KILLED)
    times = moves.times_from(KILLED)
    per_guild = collections.Counter(int(move.guild_id) for _at, move in moves.moves)
    marked_down = next(h.last_change_at for h in cluster.healths() if h.node == KILLED)
    result["kill"] = {
        "on_killed_node": len(victims),
        "resumed": len(found),
        "lost": len(victims) - len(found),
        "in_region": sum(1 for node, _, _ in found.values() if node.startswith("us")),
        "last_resumed_s": max(times, default=float("nan")) - killed_at,
        "first_resumed_s": min(times, default=float("nan")) - killed_at,
        "marked_down_s": (marked_down or float("nan")) - killed_at,
        "drift_ms": drift_stats(before, {g: (at, s) for g, (_, at, s) in found.items()}),
        "audited_when_resumed": audited,
        "moved_twice": sum(1 for c in per_guild.values() if c > 1),
        "players_moved": cluster.counts.players_moved,
        "move_failures": cluster.counts.move_failures,
        "false_downs_seen": sorted(false_downs),
        "cpu_ms_per_move": 1000.0 * cpu / max(len(victims), 1),
        "fleet_cpu_ms_per_move": 1000.0 * fleet_cpu / max(len(victims), 1),
    }
    bodies = await fleet.player_patches_since(target, index)
    result["floor_patches"] = len(bodies)
    repeats = 1 if scenario.slow else 2  # a slow node's floor is its 2 s delay, not noise
    for _ in range(repeats):
        floor_runs.append(await patch_floor(fleet, target, bodies, cluster.move_concurrency))
    result["floor_runs_s"] = [wall for wall, _cpu, _fleet in floor_runs]
    result["floor_s"] = statistics.median(result["floor_runs_s"])
    per_patch = 1000.0 / max(len(bodies), 1)
    result["floor_cpu_ms_per_patch"] = statistics.median(c * per_patch for _w, c, _f in floor_runs)
    result["floor_fleet_cpu_ms_per_patch"] = statistics.median(
        f * per_patch for _w, _c, f in floor_runs
    )
    result["ratio"] = result["kill"]["last_resumed_s"] / result["floor_s"]
    if scenario.hang:
        result["hung"] = await _hang_and_measure(fleet, cluster, moves, tracks)
        await fleet.revive(HUNG)
    return result


async def _hang_and_measure(
    fleet: FakeFleet, cluster: LavalinkCluster, moves: MoveLog, tracks: dict[int, str]
) -> dict[str, Any]:
    """eu-1 stops answering anything: detection, and its players moved to eu-2."""
    victims = {int(r.guild_id) for r in cluster.records() if r.node == HUNG}
    before = await fleet.snapshot(HUNG)
    moved_before = cluster.counts.players_moved
    hung_at = await fleet.hang(HUNG)
    detected_at = float("nan")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if cluster.status_of(NodeName(HUNG)) is NodeStatus.DOWN:
            detected_at = time.time()
            break
        await asyncio.sleep(0.005)
    await watch_failover(cluster, moved_before + len(victims), HUNG, 20.0 + len(victims) * 0.01)
    found = await resumed_on(fleet, victims, tracks, exclude=HUNG)
    return {
        "players": len(victims),
        "detection_s": detected_at - hung_at,
        "detection_bound_s": cluster.policy.detection_bound_s,
        "resumed": len(found),
        "in_region": sum(1 for node, _, _ in found.values() if node.startswith("eu")),
        "last_resumed_s": max(moves.times_from(HUNG), default=float("nan")) - hung_at,
        "drift_ms": drift_stats(before, {g: (at, s) for g, (_, at, s) in found.items()}),
    }


async def patch_floor(
    fleet: FakeFleet, name: str, bodies: Sequence[tuple[str, Any]], concurrency: int
) -> tuple[float, float, float]:
    """Seconds a bare aiohttp client takes to send ``bodies`` (``(path ending in the guild id,
    body)``: the cluster's own PATCHes, in order) to node ``name`` at the same concurrency, on a
    session of its own: the floor any client's failover time sits on in this setup. Also the CPU
    seconds this process and the fleet process used meanwhile."""
    url = fleet.urls[name]
    headers = {"Authorization": PASSWORD}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        ws = await http.ws_connect(
            url.replace("http", "ws", 1) + "/v4/websocket",
            headers={**headers, "User-Id": str(BOT_ID), "Client-Name": "floor"},
        )
        ready = json.loads((await ws.receive()).data)
        session = ready["sessionId"]
        sem = asyncio.Semaphore(concurrency)

        async def one(path: str, body: Any) -> None:
            guild = path.rsplit("/", 1)[-1]
            async with (
                sem,
                http.patch(
                    f"{url}/v4/sessions/{session}/players/{guild}", json=body, headers=headers
                ) as response,
            ):
                await response.read()

        fleet_cpu = await fleet.cpu_s()
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(path, body) for path, body in bodies))
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu
        fleet_cpu = await fleet.cpu_s() - fleet_cpu
        await ws.close()
    return took, cpu, fleet_cpu


# -- scenario 4: the bot SIGKILLed and restarted ---------------------------------------------

SavedGuild = tuple[int, str, int, int, bool]
"""(guild id, region, track number, position ms at ``saved_at``, paused)."""


async def _run_bot(
    conn: Connection,
    urls: dict[str, str],
    saved: list[SavedGuild],
    saved_at: float,
    sessions: str,
) -> None:
    """The bot: a cluster that resumes its Lavalink sessions (kept in the file ``sessions``, as
    the real bot keeps them in BOT_DATA_DIR) and re-plays every saved guild the nodes do not
    still play, at its extrapolated position, as the bot's queue restore does."""
    catalogue = make_catalogue()
    clock = SystemClock()
    cluster = LavalinkCluster(
        specs_of(urls), user_id=BOT_ID, client_name="VectoBeat/bench", clock=clock,
        audit=MemoryAuditLog(), health_store=MemoryHealthStore(clock),
        sessions=SessionFile(Path(sessions)),
    )  # fmt: skip
    async with cluster:
        sem = asyncio.Semaphore(64)

        async def replay(
            guild_id: int, region: str, number: int, position: int, paused: bool
        ) -> None:
            guild = GuildId(guild_id)
            async with sem:
                decision = RegionDecision(
                    Region(region), Region(region), False, "as_requested", "bench"
                )
                await cluster.ensure_player(guild, decision)
                kept = cluster.player(guild)
                track = track_of(catalogue, number)
                kept_track = None if kept is None else kept.track
                if kept_track is not None and kept_track.encoded == track.encoded:
                    return  # adopted from the resumed session: it never stopped
                await cluster.update_voice(
                    guild, session_id=f"s{guild}", token=f"t{guild}",
                    endpoint="us-east1.discord.media:443", channel_id=ChannelId(guild + 1),
                )  # fmt: skip
                start = position if paused else position + round((time.time() - saved_at) * 1000)
                await cluster.play(guild, track, start_ms=start, paused=paused)

        await asyncio.gather(*(replay(*each) for each in saved))
        conn.send(time.time())
        await asyncio.Event().wait()  # until killed


def _bot_process(
    conn: Connection, urls: dict[str, str], saved: list[SavedGuild], saved_at: float, sessions: str
) -> None:
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(_run_bot(conn, urls, saved, saved_at, sessions))


class BotProcess:
    """One run of the bot in a child process: started, then ready, then SIGKILLed."""

    def __init__(
        self, urls: dict[str, str], saved: list[SavedGuild], saved_at: float, sessions: str
    ) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_bot_process, args=(child, urls, saved, saved_at, sessions), daemon=True
        )

    def start(self) -> None:
        self._process.start()

    async def ready(self, within: float) -> float:
        """Wall time when every guild played again (raises ``TimeoutError`` after ``within``)."""
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, self._conn.poll, within):
            raise TimeoutError(f"the bot did not re-play its guilds within {within:g} s")
        return float(self._conn.recv())

    def sigkill(self) -> None:
        self._process.kill()
        self._process.join(5)


async def restart_run(guilds: int, window_s: float, profile: str = "") -> dict[str, Any]:
    """SIGKILL the bot with ``guilds`` playing, restart it at once; sample the nodes."""
    fleet = FakeFleet(profile)
    await fleet.start()
    saved: list[SavedGuild] = [
        (snowflake(i), r.value, i, 30_000 + (i % 100) * 1000, i % 10 == 0)
        for i, r in enumerate(regions_for(guilds))
    ]
    playing = [g for g, _r, _n, _p, paused in saved if not paused]
    saved_at = time.time()
    data_dir = tempfile.mkdtemp(prefix="vb-bench-bot-")  # the bot's BOT_DATA_DIR, both runs
    sessions = str(Path(data_dir) / SESSION_FILE)
    first = BotProcess(fleet.urls, saved, saved_at, sessions)
    second = BotProcess(fleet.urls, saved, saved_at, sessions)
    result: dict[str, Any] = {
        "guilds": guilds, "playing_guilds": len(playing), "profile": profile or "lavalink",
    }  # fmt: skip
    try:
        first.start()
        await first.ready(120.0)
        await asyncio.sleep(1.0)
        await fleet.watch(playing)
        await asyncio.sleep(0.5)
        killed_at = time.time()
        first.sigkill()
        second.start()
        ready_at = await second.ready(120.0)
        deadline = time.monotonic() + max(window_s - (time.time() - killed_at), 0.0)
        while time.monotonic() < deadline:
            duplicates, silent = await fleet.watch_status()
            if duplicates == 0 and silent == 0 and time.time() > ready_at:
                break
            await asyncio.sleep(0.1)
        watched = await fleet.watch_stop()
        ended_at = time.time()
    finally:
        first.sigkill()
        second.sigkill()
        await fleet.stop()
    gaps = watched.pop("gaps_s")
    first_dup, last_dup = watched.pop("first_duplicate_at"), watched.pop("last_duplicate_at")
    result.update(watched)
    result.update(
        {
            "restart_ready_s": ready_at - killed_at,
            "window_s": ended_at - killed_at,
            "gap_ms": {k: v * 1000.0 for k, v in percentiles(gaps).items()},
            "guilds_with_gap": sum(1 for g in gaps if g > 0),
            "duplicates_from_s": None if first_dup is None else first_dup - killed_at,
            "duplicates_until_s": None if last_dup is None else last_dup - killed_at,
        }
    )
    return result


# -- pomice ----------------------------------------------------------------------------------


def _quiet_import(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return __import__(name)


async def offline_bot() -> Any:
    discord = _quiet_import("discord")
    commands = _quiet_import("discord.ext.commands").ext.commands
    client = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    await client._async_setup_hook()
    client._connection.user = discord.ClientUser(
        state=client._connection,
        data={"id": BOT_ID, "username": "bench", "discriminator": "0", "avatar": None},
    )
    client._ready.set()
    return client


def stub_channel(guild_id: int) -> SimpleNamespace:
    async def change_voice_state(**_: Any) -> None:
        return None

    guild = SimpleNamespace(
        id=guild_id, name=f"Guild {guild_id}", change_voice_state=change_voice_state
    )
    channel = SimpleNamespace(
        id=guild_id + 1,
        guild=guild,
        name="Music",
        members=[],
        _get_voice_client_key=lambda: (guild_id, "guild_id"),
    )
    guild.get_channel = lambda channel_id: channel if channel_id == guild_id + 1 else None
    return channel


async def pomice_run(n: int) -> dict[str, Any]:
    pomice = _quiet_import("pomice")
    fleet = FakeFleet()
    await fleet.start()
    client = await offline_bot()
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    loop.set_exception_handler(
        lambda _loop, context: errors.append(type(context.get("exception")).__name__)
    )
    nodes: dict[str, Any] = {}
    result: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for _region, name in NAMES:
                host, port = fleet.host_port(name)
                nodes[name] = await pomice.NodePool.create_node(
                    bot=client, host=host, port=port, password=PASSWORD,
                    identifier=f"pomice-{name}", fallback=True, resume_key="bench",
                )  # fmt: skip
        us1 = nodes["us-1"]
        tracks: dict[int, str] = {}
        loaded = {i: (await us1.get_tracks(fleet.songs[i].uri))[0] for i in range(len(fleet.songs))}
        players: list[Any] = []
        sem = asyncio.Semaphore(64)

        async def start(i: int) -> None:
            guild_id = snowflake(i)
            async with sem:
                player = pomice.Player(client, stub_channel(guild_id), node=us1)
                us1._players[guild_id] = player
                player._voice_state = {
                    "sessionId": f"s{guild_id}",
                    "event": {"token": f"t{guild_id}", "endpoint": "us-east1.discord.media:443"},
                }
                await player._dispatch_voice_update()
                track = loaded[i % len(loaded)]
                tracks[guild_id] = track.track_id
                await player.play(track, start=30_000 + (i % 100) * 1000)
                if i % 10 == 0:
                    await player.set_pause(True)
                players.append(player)

        await asyncio.gather(*(start(i) for i in range(n)))
        await asyncio.sleep(1.0)
        before = await fleet.snapshot("us-1")
        requests_before = {name: await fleet.request_count(name) for _r, name in NAMES}
        killed_at = await fleet.kill("us-1")
        wanted = set(tracks)
        last_change = killed_at
        seen = 0
        deadline = time.monotonic() + 6.0 + n * 0.005
        while time.monotonic() < deadline:
            found = await resumed_on(fleet, wanted, tracks, exclude="us-1")
            if len(found) > seen:
                seen, last_change = len(found), time.time()
            if seen == n:
                break
            await asyncio.sleep(0.005)
        found = await resumed_on(fleet, wanted, tracks, exclude="us-1")
        result = {
            "players": n,
            "resumed": len(found),
            "lost": n - len(found),
            "in_region": sum(1 for node, _, _ in found.values() if node.startswith("us")),
            "last_resumed_s": (last_change - killed_at) if found else float("nan"),
            "drift_ms": drift_stats(before, {g: (at, s) for g, (_, at, s) in found.items()}),
            "paused_kept": sum(1 for _, _, s in found.values() if s[1]) if found else 0,
            "playing_on_us1_before_kill": len(before[1]),
            "node_still_in_pool": "pomice-us-1" in pomice.NodePool._nodes,
            "player_requests_to_other_nodes": sum(
                [
                    await fleet.player_requests_since(name, requests_before[name])
                    for _r, name in NAMES
                    if name != "us-1"
                ]
            ),
            "players_left_in_pomice": sum(len(node._players) for node in nodes.values()),
            "errors_in_tasks": len(errors),
        }
    finally:
        for node in list(nodes.values()):
            task = getattr(node, "_task", None)
            if task is not None:
                task.cancel()
            session = getattr(node, "_session", None)
            if session is not None and not session.closed:
                await session.close()
        await client.close()
        await fleet.stop()
        loop.set_exception_handler(None)
    return result


# -- report ----------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}"
    if value is None:
        return "-"
    return str(value)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    print(title)
    print(f"{'':<34}" + "".join(f"{h:>18}" for h in header))
    for label, *values in rows:
        print(f"{label:<34}" + "".join(f"{fmt(v):>18}" for v in values))


def dig(run: dict[str, Any], *path: str) -> Any:
    """``run[path[0]][path[1]]...``, ``None`` where a scenario has no such figure."""
    value: Any = run
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def kill_rows(runs: Sequence[dict[str, Any]]) -> list[list[Any]]:
    fields: list[tuple[str, tuple[str, ...]]] = [
        ("players", ("players",)),
        ("on the killed node (us-1)", ("kill", "on_killed_node")),
        ("resumed", ("kill", "resumed")),
        ("lost", ("kill", "lost")),
        ("resumed in region (us)", ("kill", "in_region")),
        ("kill -> marked down (s)", ("kill", "marked_down_s")),
        ("kill -> its moves planned (s)", ("kill", "planned_s")),
        ("kill -> first resumed (s)", ("kill", "first_resumed_s")),
        ("kill -> last resumed (s)", ("kill", "last_resumed_s")),
        ("floor: same PATCHes, bare (s)", ("floor_s",)),
        ("ratio (goal <= 1.5)", ("ratio",)),
        ("drift p50 (ms)", ("kill", "drift_ms", "p50")),
        ("drift p99 (ms, goal <= 250)", ("kill", "drift_ms", "p99")),
        ("drift max (ms)", ("kill", "drift_ms", "max")),
        ("client CPU per move (ms)", ("kill", "cpu_ms_per_move")),
        ("bare client CPU per PATCH (ms)", ("floor_cpu_ms_per_patch",)),
        ("fake nodes' CPU per move (ms)", ("kill", "fleet_cpu_ms_per_move")),
        ("fake nodes' CPU per bare PATCH (ms)", ("floor_fleet_cpu_ms_per_patch",)),
        ("players moved twice (goal 0)", ("kill", "moved_twice")),
        ("failed move attempts", ("kill", "move_failures")),
        ("audit events written by then", ("kill", "audited_when_resumed")),
        ("nodes falsely marked down", ("false_down_transitions",)),
        ("setup of the players (s)", ("setup_s",)),
    ]
    return [[label, *(dig(run, *path) for run in runs)] for label, path in fields]


def kill_targets(run: dict[str, Any]) -> dict[str, bool]:
    kill = run.get("kill")
    if kill is None:
        return {"ran": False}
    return {
        "ratio_le_1_5": run["ratio"] <= 1.5,
        "drift_p99_le_250ms": kill["drift_ms"]["p99"] <= 250.0,
        "all_resumed_in_region": kill["in_region"] == kill["on_killed_node"],
        "none_moved_twice": kill["moved_twice"] == 0,
        "no_false_down": run["false_down_transitions"] == 0 and not kill["false_downs_seen"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=None, help="kill scenarios (10,000)")
    parser.add_argument("--slow-players", type=int, default=None, help="slow-replies (500)")
    parser.add_argument("--guilds", type=int, default=None, help="bot restart (1,000)")
    parser.add_argument("--pomice-players", type=int, default=None, help="pomice (1,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="the cluster's parallel moves")
    parser.add_argument("--redis-port", type=int, default=6379, help="the local Redis")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, short restart window")
    parser.add_argument("--skip-pomice", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    quick = args.quick
    n = args.players or (1000 if quick else 10_000)
    slow_n = args.slow_players or (200 if quick else 500)
    guilds = args.guilds or (200 if quick else 1000)
    pomice_n = args.pomice_players or (200 if quick else 1000)
    window = 10.0 if quick else RESUME_TIMEOUT_S + 5.0
    started = time.perf_counter()
    scenarios = [
        KillScenario("kill", n, hang=True),
        KillScenario("redis", n, redis_port=args.redis_port),
        KillScenario("slow", slow_n, slow=True),
    ]
    runs = [asyncio.run(kill_run(s, args.concurrency)) for s in scenarios]
    restarts = [asyncio.run(restart_run(guilds, window, p)) for p in ("", "no-resume")]
    theirs = None if args.skip_pomice else asyncio.run(pomice_run(pomice_n))
    plain, redis, slow = runs
    cpus = multiprocessing.cpu_count()

    print_table(
        f"failover: 4 fake nodes (us-1, us-2, eu-1, eu-2), us-1 killed; one Python process for "
        f"the cluster, one for the nodes; {cpus} CPUs; move_concurrency {args.concurrency}",
        ["plain", "Redis blackholed", "slow-replies"],
        kill_rows(runs),
    )
    for run in runs:
        if "skipped" in run:
            print(f"{run['scenario']}: skipped ({run['skipped']})")
    print(
        f"floor runs (s): plain {plain.get('floor_runs_s')}, Redis {redis.get('floor_runs_s')}, "
        f"slow {slow.get('floor_runs_s')}; slow-replies: the profile is switched on on every node "
        f"just before the kill; {slow_n} players (at 2 s a PATCH and {args.concurrency} at a "
        "time, a move takes 1/8 s)"
    )
    if "redis_health_keys_before_blackhole" in redis:
        print(
            f"Redis: {redis['redis_health_keys_before_blackhole']} health records in the bench's "
            f"namespace before the blackhole; {redis.get('redis_keys_deleted')} keys deleted after"
        )
    hung = plain.get("hung")
    if hung is not None:
        print(
            f"hung node eu-1 ({hung['players']} players): detected in {fmt(hung['detection_s'])} s "
            f"(bound {fmt(hung['detection_bound_s'])} s), last resumed "
            f"{fmt(hung['last_resumed_s'])} s, {hung['resumed']} resumed, {hung['in_region']} in "
            f"region, drift p99 {fmt(hung['drift_ms']['p99'])} ms"
        )
    print()
    print_table(
        f"bot SIGKILL + restart with {guilds} guilds ({restarts[0]['playing_guilds']} playing), "
        "sampled on the nodes every 20 ms",
        ["Lavalink", "no-resume server"],
        [
            [label, *(dig(r, *path) for r in restarts)]
            for label, path in (
                ("restart -> all re-played (s)", ("restart_ready_s",)),
                ("audio gap p50 (ms)", ("gap_ms", "p50")),
                ("audio gap p99 (ms)", ("gap_ms", "p99")),
                ("audio gap max (ms)", ("gap_ms", "max")),
                ("guilds with any gap", ("guilds_with_gap",)),
                ("max duplicate players", ("max_duplicates",)),
                ("duplicates from (s after kill)", ("duplicates_from_s",)),
                ("duplicates until (s after kill)", ("duplicates_until_s",)),
                ("duplicates at end of window", ("duplicates_at_end",)),
                ("window (s after kill)", ("window_s",)),
                ("samples", ("samples",)),
                ("longest sample interval (s)", ("max_interval_s",)),
            )
        ],
    )
    print(
        "NOTE: the restarted bot resumes its Lavalink sessions (their ids kept on disk) and "
        "adopts their players, which never stop: no gap, no duplicates. A server that does not "
        "resume (no-resume) drops the players at the kill: a gap until the restarted bot has "
        "re-played them, no duplicates."
    )
    if theirs is not None:
        print()
        print_table(
            f"pomice 2.11 NodePool(fallback=True): {pomice_n} players on us-1, us-1 killed",
            ["pomice"],
            [
                ["players resumed", theirs["resumed"]],
                ["players lost", theirs["lost"]],
                ["resumed in region (us)", theirs["in_region"]],
                ["kill -> last resumed (s)", theirs["last_resumed_s"]],
                ["drift p99 (ms)", theirs["drift_ms"]["p99"]],
            ],
        )
        print(
            f"pomice keeps the dead node in its pool: {theirs['node_still_in_pool']}; paused "
            f"players still paused: {theirs['paused_kept']} of {pomice_n // 10}; exceptions in its "
            f"background tasks: {theirs['errors_in_tasks']}; player requests it sent to other "
            f"nodes: {theirs['player_requests_to_other_nodes']}; players it still holds: "
            f"{theirs['players_left_in_pomice']}"
        )
    targets = {
        "plain": kill_targets(plain),
        "redis": kill_targets(redis),
        "slow": kill_targets(slow),
        "hung_detection_le_3s": hung is not None and hung["detection_s"] <= 3.0,
        "restart_no_duplicates": all(r["max_duplicates"] == 0 for r in restarts),
    }
    print("targets met: " + json.dumps(targets, sort_keys=True))
    total = time.perf_counter() - started
    print(f"bench took {total:.1f} s")
    figures = {
        "vectobeat": {
            "plain": plain,
            "redis": redis,
            "slow": slow,
            "restart": restarts[0],
            "restart_no_resume": restarts[1],
        },
        "pomice": theirs,
        "targets": targets,
        "cpus": cpus,
        "concurrency": args.concurrency,
        "took_s": total,
    }
    print(json.dumps(figures, sort_keys=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
