"""Failover benchmark: VectoBeat's LavalinkCluster against pomice 2.11's ``NodePool(fallback=True)``.

A 2-region x 2-node fake Lavalink v4 cluster (``vectobeat_testkit``) runs in its own thread and
event loop, as real Lavalink runs in its own process. N players (1,000 by default) play on us-1;
us-1 is killed. For each client, in the same run:

* time from the kill to the last player resumed (VectoBeat: the audit time of the last move;
  pomice: the last time a player appeared on another node, polled every 5 ms);
* players resumed, lost, and resumed in their region (us);
* position drift per player: its position on the new node minus where it would be had nothing
  happened (from a snapshot of us-1 just before the kill), at the node's own clock (speed 1).

Then a hung node (VectoBeat only): eu-1 with N/5 players stops answering; detection time (until the
cluster marks it down) and time to the last player moved. Targets: 100% resumed in region, last
within 1.0 s of the kill, drift p99 <= 250 ms, hung detection <= 3 s.

pomice is driven as a bot would drive it, with an offline ``commands.Bot`` (user set, marked
ready) and stub voice channels; its players get real voice and track PATCHes.

Run: ``python bench/failover_bench.py`` (``--players 200`` for a quick run). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import multiprocessing
import statistics
import sys
import time
import warnings
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import Any

import aiohttp

from vectobeat_adapters.lavalink import LavalinkCluster
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.services import SystemClock
from vectobeat_core.audit import AuditKind
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec
from vectobeat_core.tracks import Track
from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode

PASSWORD = "youshallnotpass"  # noqa: S105 - Lavalink's documented default
BOT_ID = 1_000_000_000_000_001
NAMES = (("us", "us-1"), ("us", "us-2"), ("eu", "eu-1"), ("eu", "eu-2"))
SETTLE_S = 6.0


def make_catalogue() -> Catalogue:
    """The same catalogue in both processes (identifiers make the encodings identical)."""
    catalogue = Catalogue()
    for n in range(50):
        catalogue.add(f"Song {n}", f"Artist {n}", 900_000, identifier=f"song{n:04d}")
    return catalogue


Snapshot = tuple[float, dict[int, tuple[int, bool, str | None]]]


async def _serve_fleet(conn: Connection) -> None:
    """The child process: four fake nodes and a command loop over ``conn``."""
    catalogue = make_catalogue()
    nodes: dict[str, FakeLavalinkNode] = {}
    for region, name in NAMES:
        nodes[name] = await FakeLavalinkNode(
            password=PASSWORD,
            name=name,
            region=region,
            catalogue=catalogue,
            player_update_interval=5.0,
            stats_interval=60.0,
        ).start()
    conn.send({name: node.base_url for name, node in nodes.items()})
    loop = asyncio.get_running_loop()
    while True:
        command, name, arg = await loop.run_in_executor(None, conn.recv)
        node = nodes.get(name)
        if command == "stop":
            for each in nodes.values():
                await each.stop()
            conn.send(None)
            return
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
        elif command == "load":
            node.set_load(system_load=float(arg))
            node.send_stats()
            conn.send(None)
        elif command == "requests":
            conn.send(sum(1 for r in node.requests[int(arg) :] if "/players/" in r.path))
        elif command == "request_count":
            conn.send(len(node.requests))


def _fleet_process(conn: Connection) -> None:
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(_serve_fleet(conn))


class FakeFleet:
    """Four fake nodes in a child process (as Lavalink runs in its own), driven over a pipe."""

    def __init__(self) -> None:
        self.catalogue = make_catalogue()
        self.songs = list(self.catalogue.tracks)
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_fleet_process, args=(child,), daemon=True
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
        return tuple(
            NodeSpec(NodeName(name), Region(region), self.urls[name], PASSWORD, False)
            for region, name in NAMES
        )

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

    async def load(self, name: str, system_load: float) -> None:
        await self._ask("load", name, system_load)

    async def request_count(self, name: str) -> int:
        return int(await self._ask("request_count", name))

    async def player_requests_since(self, name: str, index: int) -> int:
        return int(await self._ask("requests", name, index))


def track_of(fleet: FakeFleet, n: int) -> Track:
    song = fleet.songs[n % len(fleet.songs)]
    return Track.from_lavalink(fleet.catalogue.load(song.identifier)["data"])


def drift_stats(
    before: tuple[float, dict[int, tuple[int, bool, str | None]]],
    after: dict[int, tuple[float, tuple[int, bool, str | None]]],
) -> dict[str, float]:
    at0, players0 = before
    drifts: list[float] = []
    for guild, (at1, (position, _paused, _track)) in after.items():
        if guild not in players0:
            continue  # it had already moved (a PATCH that timed out under load)
        pos0, paused0, _ = players0[guild]
        expected = pos0 if paused0 else pos0 + (at1 - at0) * 1000.0
        drifts.append(abs(position - expected))
    if not drifts:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    drifts.sort()
    return {
        "p50": statistics.median(drifts),
        "p99": drifts[min(len(drifts) - 1, int(len(drifts) * 0.99))],
        "max": drifts[-1],
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


# -- VectoBeat -------------------------------------------------------------------------------


async def vectobeat_run(n: int, concurrency: int) -> dict[str, Any]:
    fleet = FakeFleet()
    await fleet.start()
    audit = MemoryAuditLog()
    clock = SystemClock()
    cluster = LavalinkCluster(
        fleet.specs(),
        user_id=BOT_ID,
        client_name="VectoBeat/bench",
        clock=clock,
        audit=audit,
        health_store=MemoryHealthStore(clock),
        move_concurrency=concurrency,
    )
    result: dict[str, Any] = {}
    try:
        async with cluster:
            await fleet.load("us-2", 1.0)  # everything lands on us-1
            await fleet.load("eu-2", 1.0)  # and the hung-node players on eu-1
            await wait_until(
                lambda: all(
                    v.stats is not None and v.stats.system_load >= 1.0
                    for v in cluster.nodes()
                    if v.name in ("us-2", "eu-2")
                ),
                10,
            )
            guilds = [GuildId(100_000 + i) for i in range(n)]
            tracks: dict[int, str] = {}
            sem = asyncio.Semaphore(64)

            async def start(i: int, guild: GuildId, region: Region) -> None:
                async with sem:
                    decision = RegionDecision(region, region, False, "as_requested", "bench")
                    await cluster.ensure_player(guild, decision)
                    await cluster.update_voice(
                        guild, session_id=f"s{guild}", token=f"t{guild}",
                        endpoint="us-east1.discord.media:443", channel_id=ChannelId(guild + 1),
                    )  # fmt: skip
                    track = track_of(fleet, i)
                    tracks[int(guild)] = track.encoded
                    await cluster.play(
                        guild, track, start_ms=30_000 + (i % 100) * 1000, paused=i % 10 == 0
                    )

            await asyncio.gather(*(start(i, g, Region.US) for i, g in enumerate(guilds)))
            placed = {p.node for p in cluster.players()}
            await asyncio.sleep(1.0)
            before = await fleet.snapshot("us-1")
            killed_at = await fleet.kill("us-1")
            wanted = {int(g) for g in guilds}
            deadline = time.monotonic() + SETTLE_S
            while cluster.counts.players_moved < n and time.monotonic() < deadline:  # noqa: ASYNC110 - 5 ms polling is the measurement
                await asyncio.sleep(0.005)
            found = await resumed_on(fleet, wanted, tracks, exclude="us-1")
            moves = await audit.recent(None, limit=10 * n, kinds=[AuditKind.NODE_FAILOVER])
            last = max((e.at for e in moves), default=float("nan"))
            result["kill"] = {
                "players": n,
                "placed_on": sorted(placed),
                "resumed": len(found),
                "lost": n - len(found),
                "in_region": sum(1 for node, _, _ in found.values() if node.startswith("us")),
                "last_resumed_s": last - killed_at,
                "first_resumed_s": min((e.at for e in moves), default=float("nan")) - killed_at,
                "marked_down_s": max(
                    (h.last_change_at or 0.0) for h in cluster.healths() if h.node == "us-1"
                )
                - killed_at,
                "drift_ms": drift_stats(before, {g: (at, s) for g, (_, at, s) in found.items()}),
                "audit_events": len(moves),
            }

            # hung node: eu-1 with n/5 players stops answering anything
            hung_n = max(1, n // 5)
            eu_guilds = [GuildId(500_000 + i) for i in range(hung_n)]
            await asyncio.gather(*(start(i, g, Region.EU) for i, g in enumerate(eu_guilds)))
            await asyncio.sleep(0.5)
            moved_before = cluster.counts.players_moved
            before_eu = await fleet.snapshot("eu-1")
            hung_at = await fleet.hang("eu-1")
            detected_at = float("nan")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if cluster.status_of(NodeName("eu-1")) is NodeStatus.DOWN:
                    detected_at = time.time()
                    break
                await asyncio.sleep(0.005)
            while (  # noqa: ASYNC110 - 5 ms polling is the measurement
                cluster.counts.players_moved < moved_before + hung_n and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.005)
            found_eu = await resumed_on(fleet, {int(g) for g in eu_guilds}, tracks, exclude="eu-1")
            eu_moves = [
                e
                for e in await audit.recent(None, limit=10 * n, kinds=[AuditKind.NODE_FAILOVER])
                if e.guild_id is not None and e.guild_id >= 500_000
            ]
            result["hung"] = {
                "players": hung_n,
                "detection_s": detected_at - hung_at,
                "detection_bound_s": cluster.policy.detection_bound_s,
                "resumed": len(found_eu),
                "in_region": sum(1 for node, _, _ in found_eu.values() if node.startswith("eu")),
                "last_resumed_s": max((e.at for e in eu_moves), default=float("nan")) - hung_at,
                "drift_ms": drift_stats(
                    before_eu, {g: (at, s) for g, (_, at, s) in found_eu.items()}
                ),
            }
            await fleet.revive("eu-1")
            result["floor_s"] = await patch_floor(fleet, "us-2", n, concurrency)
    finally:
        await fleet.stop()
    return result


async def patch_floor(fleet: FakeFleet, name: str, n: int, concurrency: int) -> float:
    """Seconds the fake node needs for ``n`` player PATCHes from a bare aiohttp client at the
    same concurrency: the floor any client's failover time sits on in this setup."""
    url = fleet.urls[name]
    headers = {"Authorization": PASSWORD}
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            url.replace("http", "ws", 1) + "/v4/websocket",
            headers={**headers, "User-Id": str(BOT_ID), "Client-Name": "floor"},
        )
        ready = json.loads((await ws.receive()).data)
        session = ready["sessionId"]
        sem = asyncio.Semaphore(concurrency)
        voice = {
            "token": "t",
            "endpoint": "e.discord.media:443",
            "sessionId": "s",
            "channelId": "1",
        }

        async def one(i: int) -> None:
            body = {
                "track": {"encoded": track_of(fleet, i).encoded},
                "position": 30_000,
                "volume": 100,
                "paused": False,
                "filters": {},
                "voice": voice,
            }
            async with (
                sem,
                http.patch(
                    f"{url}/v4/sessions/{session}/players/{900_000 + i}", json=body, headers=headers
                ) as response,
            ):
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        took = time.perf_counter() - started
        await ws.close()
    return took


async def wait_until(predicate: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


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
            guild_id = 100_000 + i
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
        deadline = time.monotonic() + SETTLE_S
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
    return str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16, help="VectoBeat's parallel moves")
    parser.add_argument("--skip-pomice", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    n = args.players
    ours = asyncio.run(vectobeat_run(n, args.concurrency))
    theirs = asyncio.run(pomice_run(n))
    kill = ours["kill"]
    rows = [
        ("players resumed", kill["resumed"], theirs["resumed"]),
        ("players lost", kill["lost"], theirs["lost"]),
        ("resumed in region (us)", kill["in_region"], theirs["in_region"]),
        ("kill -> last resumed (s)", kill["last_resumed_s"], theirs["last_resumed_s"]),
        ("drift p50 (ms)", kill["drift_ms"]["p50"], theirs["drift_ms"]["p50"]),
        ("drift p99 (ms)", kill["drift_ms"]["p99"], theirs["drift_ms"]["p99"]),
        ("drift max (ms)", kill["drift_ms"]["max"], theirs["drift_ms"]["max"]),
    ]
    print(f"failover of {n} players on us-1 (2 regions x 2 nodes, us-1 killed)")
    print(f"{'':<28}{'VectoBeat':>14}{'pomice fallback':>18}")
    for label, a, b in rows:
        print(f"{label:<28}{fmt(a):>14}{fmt(b):>18}")
    print(f"pomice had {theirs['playing_on_us1_before_kill']} players on us-1 before the kill; "
          f"it keeps the dead node in its pool: {theirs['node_still_in_pool']}; "
          f"paused players still paused: {theirs['paused_kept']} of {n // 10}; "
          f"exceptions in its background tasks: {theirs['errors_in_tasks']}; "
          f"player requests it sent to other nodes: {theirs['player_requests_to_other_nodes']}; "
          f"players it still holds: {theirs['players_left_in_pomice']}")  # fmt: skip
    hung = ours["hung"]
    print(
        f"hung node eu-1 ({hung['players']} players): detected in {fmt(hung['detection_s'])} s "
        f"(bound {fmt(hung['detection_bound_s'])} s), last resumed {fmt(hung['last_resumed_s'])} s, "
        f"{hung['resumed']} resumed, {hung['in_region']} in region, "
        f"drift p99 {fmt(hung['drift_ms']['p99'])} ms"
    )
    print(
        f"floor: the fake node takes {fmt(ours['floor_s'])} s for {n} player PATCHes from a bare "
        f"aiohttp client at the same concurrency ({args.concurrency}); one Python process, "
        f"{multiprocessing.cpu_count()} CPUs"
    )
    targets = {
        "all_resumed_in_region": kill["in_region"] == n,
        "last_within_1s": kill["last_resumed_s"] <= 1.0,
        "drift_p99_le_250ms": kill["drift_ms"]["p99"] <= 250.0,
        "hung_detection_le_3s": hung["detection_s"] <= 3.0,
    }
    print("targets met: " + ", ".join(f"{k}={v}" for k, v in targets.items()))
    print(json.dumps({"vectobeat": ours, "pomice": theirs, "targets": targets}, sort_keys=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
