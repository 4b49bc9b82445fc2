"""Failover end to end on a 2-region x 2-node fake Lavalink cluster with an accelerated clock.

A small "bot" keeps a `GuildQueue` per guild, advances it on ``TrackEnd`` (finished) and saves
queue snapshots; nodes are killed, hung, and whole regions taken down and brought back. Player
state on the fake nodes is compared with what it should be; positions in *track time* (the
cluster's clock runs at the nodes' playback speed), never with wall-clock assertions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import attrs
import pytest
from tests.lavalink_support import FAST, NodeTimeClock

from vectobeat_adapters.lavalink import LavalinkCluster, LavalinkEvent, TrackEnd
from vectobeat_adapters.lavalink.cluster import DEFAULT_POLICY
from vectobeat_adapters.lavalink.node import Backoff
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_core.audit import AuditKind
from vectobeat_core.health import HealthPolicy, NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.queue import GuildQueue, PlayerState
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec
from vectobeat_core.tracks import Track
from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SPEED = 10.0
PASSWORD = "youshallnotpass"
BOT_ID = 1_000_000_000_000_001
TOLERANCE_MS = 2_500  # track time: 250 ms of wall time at SPEED 10, the bench's drift target
NAMES = (("us", "us-1"), ("us", "us-2"), ("eu", "eu-1"), ("eu", "eu-2"))


@attrs.define
class Expected:
    """What a guild's player must look like wherever it runs."""

    track: Track
    start_ms: int
    started_at: float
    paused: bool
    volume: int
    filters: dict[str, object]

    def position(self, now: float) -> int:
        if self.paused:
            return self.start_ms
        return self.start_ms + round((now - self.started_at) * 1000)


class Bot:
    """The bot's side: queues, snapshots, and advancing on TrackEnd."""

    def __init__(self, clock: NodeTimeClock) -> None:
        self.clock = clock
        self.queues: dict[GuildId, GuildQueue] = {}
        self.store = MemoryQueueStore(clock)
        self.cluster: LavalinkCluster
        self.advanced: list[GuildId] = []

    async def on_event(self, guild_id: GuildId, event: LavalinkEvent) -> None:
        if isinstance(event, TrackEnd) and event.starts_next:
            entry = self.queues[guild_id].next()
            if entry is not None:
                self.advanced.append(guild_id)
                await self.cluster.play(guild_id, entry.track)

    async def snapshot_all(self) -> dict[GuildId, object]:
        """Save every queue's snapshot; return them as read back (minus the time taken)."""
        for queue in self.queues.values():
            await self.store.save(queue.snapshot(PlayerState(), self.clock.now()))
        out: dict[GuildId, object] = {}
        for guild_id in self.queues:
            snapshot = await self.store.load(guild_id)
            assert snapshot is not None
            out[guild_id] = {k: v for k, v in snapshot.to_json().items() if k != "at"}
        return out


@attrs.define
class World:
    nodes: dict[str, FakeLavalinkNode]
    cluster: LavalinkCluster
    audit: MemoryAuditLog
    clock: NodeTimeClock
    bot: Bot
    songs: list[Track]
    expected: dict[GuildId, Expected] = attrs.Factory(dict)

    async def until(self, predicate: Callable[[], bool], within: float = 15.0) -> None:
        with anyio.fail_after(within):
            while not predicate():  # noqa: ASYNC110 - cluster state has many sources
                await anyio.sleep(0.02)

    def status(self, name: str) -> NodeStatus:
        return {str(v.name): v.status for v in self.cluster.nodes()}[name]

    def on(self, name: str, guilds: list[GuildId]) -> bool:
        players = self.nodes[name].players
        return all(int(g) in players and players[int(g)].track is not None for g in guilds)

    def in_region(self, guild_id: GuildId, region: Region) -> bool:
        """The cluster places the guild in ``region`` and that node has applied it."""
        info = self.cluster.player(guild_id)
        return info is not None and info.region is region and self.on(str(info.node), [guild_id])

    async def start(self, guild_id: GuildId, region: Region, n: int, start_ms: int) -> None:
        decision = RegionDecision(region, region, False, "as_requested", "pinned")
        await self.cluster.ensure_player(guild_id, decision)
        await self.cluster.update_voice(
            guild_id,
            session_id=f"s{guild_id}",
            token=f"t{guild_id}",
            endpoint="us-east1.discord.media:443",
            channel_id=ChannelId(guild_id + 7),
        )
        queue = GuildQueue(guild_id)
        for k in range(3):
            queue.add(self.songs[(n + k) % len(self.songs)])
        entry = queue.next()
        assert entry is not None
        self.bot.queues[guild_id] = queue
        paused = n % 5 == 0
        volume = 50 + n % 50
        filters: dict[str, object] = {"volume": round(0.5 + (n % 4) / 10, 2)}
        await self.cluster.play(
            guild_id,
            entry.track,
            start_ms=start_ms,
            paused=paused,
            volume=volume,
            filters=filters,  # type: ignore[arg-type]
        )
        # the song started when the node applied the play, not when the call returned (a loaded
        # machine puts time between the two)
        info = self.cluster.player(guild_id)
        assert info is not None
        applied = self.nodes[str(info.node)].players[int(guild_id)]
        self.expected[guild_id] = Expected(
            entry.track, start_ms, self.clock.at(applied.set_at), paused, volume, filters
        )

    def check_restored(self, name: str, guilds: list[GuildId], *, since: float) -> None:
        """Every guild's player on node ``name`` equals what it should be.

        A moved player's position must be where the song was at some moment between ``since``
        (clock time just before the failure) and when the node applied the move, give or take
        ``TOLERANCE_MS``: a window bounded by what happened in this run, not by wall-clock
        expectations (a loaded machine widens it; `bench/failover_bench.py` measures drift).
        """
        node = self.nodes[name]
        for guild_id in guilds:
            want = self.expected[guild_id]
            got = node.players[int(guild_id)]
            assert got.track is not None
            assert got.track["encoded"] == want.track.encoded
            assert got.paused is want.paused
            assert got.volume == want.volume
            assert got.filters == want.filters
            assert got.voice == {
                "token": f"t{guild_id}",
                "endpoint": "us-east1.discord.media:443",
                "sessionId": f"s{guild_id}",
                "channelId": str(guild_id + 7),
            }
            low, high = want.position(since), want.position(self.clock.at(got.set_at))
            given = got.set_position
            assert low - TOLERANCE_MS <= given <= high + TOLERANCE_MS, (guild_id, given, low, high)


@asynccontextmanager
async def world(
    *, policy: HealthPolicy = FAST, return_hold_s: float = 60.0
) -> AsyncIterator[World]:
    catalogue = Catalogue()
    songs = [catalogue.add(f"Song {n}", f"Artist {n}", 600_000) for n in range(8)]
    tracks = [Track.from_lavalink(catalogue.load(s.identifier)["data"]) for s in songs]
    nodes = {
        name: await FakeLavalinkNode(
            password=PASSWORD,
            name=name,
            region=region,
            catalogue=catalogue,
            speed=SPEED,
            player_update_interval=0.1,
            stats_interval=0.5,
        ).start()
        for region, name in NAMES
    }
    specs = tuple(
        NodeSpec(NodeName(name), Region(region), nodes[name].base_url, PASSWORD, False)
        for region, name in NAMES
    )
    clock = NodeTimeClock(SPEED)
    audit = MemoryAuditLog()
    bot = Bot(clock)
    cluster = LavalinkCluster(
        specs,
        user_id=BOT_ID,
        client_name="VectoBeat/e2e",
        clock=clock,
        audit=audit,
        health_store=MemoryHealthStore(clock),
        on_event=bot.on_event,
        policy=policy,
        return_hold_s=return_hold_s,
        backoff=Backoff(base_s=0.05, cap_s=0.3),
    )
    bot.cluster = cluster
    try:
        async with cluster:
            yield World(nodes, cluster, audit, clock, bot, tracks)
    finally:
        for node in nodes.values():
            await node.stop()


async def load_one_node(w: World, busy: list[str]) -> None:
    """Make ``busy`` nodes look loaded so new players all land on the others."""
    for name in busy:
        w.nodes[name].set_load(system_load=0.95)
        w.nodes[name].send_stats()
    await w.until(
        lambda: all(
            v.stats is not None and v.stats.system_load > 0.9
            for v in w.cluster.nodes()
            if v.name in busy
        )
    )


async def test_killed_node_players_resume_on_the_other_node_of_their_region() -> None:
    async with world() as w:
        await load_one_node(w, ["us-2"])
        guilds = [GuildId(10_000 + n) for n in range(50)]
        for n, guild_id in enumerate(guilds):
            await w.start(guild_id, Region.US, n, start_ms=20_000 + n * 1000)
        assert w.on("us-1", guilds)
        queues_before = await w.bot.snapshot_all()

        killed_at = w.clock.now()
        await w.nodes["us-1"].kill()
        await w.until(lambda: w.on("us-2", guilds) and w.cluster.counts.players_moved == 50)
        w.check_restored("us-2", guilds, since=killed_at)

        assert await w.bot.snapshot_all() == queues_before
        for guild_id in guilds:
            info = w.cluster.player(guild_id)
            assert info is not None and (info.node, info.region) == ("us-2", Region.US)
        await w.cluster.flush_records()
        moves = await w.audit.recent(None, limit=1000, kinds=[AuditKind.NODE_FAILOVER])
        assert sorted(e.guild_id for e in moves if e.guild_id is not None) == guilds
        assert {(e.data["from_node"], e.data["to_node"], e.data["region"]) for e in moves} == {
            ("us-1", "us-2", "us")
        }
        await w.cluster.flush_records()
        assert await w.audit.recent(None, kinds=[AuditKind.REGION_UNAVAILABLE]) == []
        assert w.cluster.counts.players_moved == 50
        assert w.cluster.counts.failovers == 1
        assert not any(g in w.nodes["eu-1"].players for g in guilds)


async def test_hung_node_is_detected_and_its_players_move() -> None:
    policy = DEFAULT_POLICY  # the cluster default: down within detection_bound_s (2.5 s)
    async with world(policy=policy) as w:
        await load_one_node(w, ["eu-2"])
        guilds = [GuildId(20_000 + n) for n in range(20)]
        for n, guild_id in enumerate(guilds):
            await w.start(guild_id, Region.EU, n, start_ms=5_000)
        assert w.on("eu-1", guilds)
        queues_before = await w.bot.snapshot_all()

        hung_at = w.clock.now()
        w.nodes["eu-1"].hang()
        await w.until(
            lambda: w.on("eu-2", guilds) and w.cluster.counts.players_moved == 20,
            within=policy.detection_bound_s + 10,
        )
        assert w.status("eu-1") is NodeStatus.DOWN
        w.check_restored("eu-2", guilds, since=hung_at)
        assert await w.bot.snapshot_all() == queues_before
        await w.cluster.flush_records()
        moves = await w.audit.recent(None, limit=1000, kinds=[AuditKind.NODE_FAILOVER])
        assert len(moves) == 20
        assert all("health probes kept failing" in str(e.data["reason"]) for e in moves)

        # the hung node comes back: it is reconciled (its stale players deleted), not reused
        await w.nodes["eu-1"].revive()
        await w.until(lambda: not any(int(g) in w.nodes["eu-1"].players for g in guilds))
        assert w.on("eu-2", guilds)


async def test_region_outage_fails_over_across_regions_and_returns_at_a_track_boundary() -> None:
    hold_s = 6.0  # clock (track-time) seconds the region must stay healthy
    async with world(return_hold_s=hold_s) as w:
        guilds = [GuildId(30_000 + n) for n in range(12)]
        for n, guild_id in enumerate(guilds):
            # 60 s of track time left: 6 s of wall time at SPEED 10
            await w.start(guild_id, Region.US, n * 5 + 1, start_ms=540_000)
        queues_before = await w.bot.snapshot_all()

        killed_at = w.clock.now()
        await w.nodes["us-1"].kill()
        await w.nodes["us-2"].kill()
        await w.until(lambda: all(w.in_region(g, Region.EU) for g in guilds))
        eu = [g for g in guilds if w.cluster.player(g).node == "eu-1"]  # type: ignore[union-attr]
        w.check_restored("eu-1", eu, since=killed_at)
        w.check_restored("eu-2", [g for g in guilds if g not in eu], since=killed_at)
        assert await w.bot.snapshot_all() == queues_before
        await w.until(lambda: w.cluster.counts.players_moved >= len(guilds))
        await w.cluster.flush_records()
        unavailable = await w.audit.recent(None, limit=1000, kinds=[AuditKind.REGION_UNAVAILABLE])
        assert sorted(e.guild_id for e in unavailable if e.guild_id is not None) == guilds
        assert {e.data["region"] for e in unavailable} == {"us"}

        await w.nodes["us-1"].revive()
        await w.nodes["us-2"].revive()
        await w.until(lambda: w.status("us-1") is NodeStatus.UP)
        up_since = min(h.since for h in w.cluster.healths() if str(h.node).startswith("us"))
        await w.until(lambda: w.clock.now() >= up_since + hold_s + 1)
        # the region is back and held long enough, but songs are mid-way: nobody moves yet
        await w.cluster.flush_records()
        assert await w.audit.recent(None, kinds=[AuditKind.NODE_RETURN]) == []
        assert all(w.cluster.player(g).region is Region.EU for g in guilds)  # type: ignore[union-attr]
        assert w.bot.advanced == []

        # each track ends on the EU node; the bot plays the next one, which starts in the US
        await w.until(lambda: len(set(w.bot.advanced)) == len(guilds), within=30)
        await w.until(lambda: w.cluster.counts.players_returned == len(guilds))
        await w.cluster.flush_records()
        returns = await w.audit.recent(None, limit=1000, kinds=[AuditKind.NODE_RETURN])
        assert sorted(e.guild_id for e in returns if e.guild_id is not None) == guilds
        for guild_id in guilds:
            info = w.cluster.player(guild_id)
            assert info is not None and info.track is not None
            queue = w.bot.queues[guild_id]
            assert queue.current is not None and info.track.encoded == queue.current.track.encoded
            where = info.node
            assert int(guild_id) in w.nodes[where].players
            assert not any(int(guild_id) in w.nodes[n].players for n in ("eu-1", "eu-2"))
        assert w.cluster.counts.players_returned == len(guilds)
