"""A running 2x2 cluster of fake Lavalink nodes (us-1, us-2, eu-1, eu-2) and the
`LavalinkCluster` over them, for the cluster's integration tests; ``profiles`` makes nodes
deviate as some Lavalink-compatible servers do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from tests.lavalink_support import FAST, NodeTimeClock

from vectobeat_adapters.lavalink import (
    FailoverCallback,
    LavalinkCluster,
    LavalinkEvent,
    NodeFailover,
)
from vectobeat_adapters.lavalink.node import Backoff
from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_core.health import HealthPolicy, NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, NodeName
from vectobeat_core.ports import AuditLog, HealthStore
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec
from vectobeat_core.tracks import Track
from vectobeat_testkit.lavalink import Catalogue, CatalogueTrack, FakeLavalinkNode, ServerProfile

SPEED = 4.0
BOT_ID = 1_000_000_000_000_001
PASSWORD = "youshallnotpass"


def decision(region: Region) -> RegionDecision:
    return RegionDecision(region, region, False, "as_requested", "test")


def make_catalogue() -> tuple[Catalogue, list[CatalogueTrack]]:
    catalogue = Catalogue()
    songs = [catalogue.add(f"Song {n}", f"Artist {n}", 600_000) for n in range(1, 6)]
    catalogue.add("Short One", "Brief", 3_000, identifier="short")
    catalogue.add("Cloud Song", "Sound Artist", 200_000, source="soundcloud")
    catalogue.add_playlist("https://example.test/list", "Mix", songs[:3], selected=1)
    catalogue.fail("https://example.test/broken", "This video is unavailable")
    return catalogue, songs


def track_of(song: CatalogueTrack) -> Track:
    return Track.from_lavalink(
        {
            "encoded": song.encoded,
            "info": {
                "identifier": song.identifier,
                "isSeekable": True,
                "author": song.author,
                "length": song.length,
                "isStream": False,
                "title": song.title,
                "uri": song.uri,
                "sourceName": song.source,
            },
        }
    )


class Env:
    """A running 2x2 cluster of fake nodes and the `LavalinkCluster` over them."""

    def __init__(self) -> None:
        self.nodes: dict[str, FakeLavalinkNode] = {}
        self.cluster: LavalinkCluster
        self.audit: AuditLog = MemoryAuditLog()
        self.clock = NodeTimeClock(SPEED)
        self.health: HealthStore = MemoryHealthStore(self.clock)
        self.events: list[tuple[GuildId, LavalinkEvent]] = []
        self.changed = anyio.Event()
        self.songs: list[CatalogueTrack] = []
        self.specs: tuple[NodeSpec, ...] = ()
        self.policy = FAST
        self.return_hold_s = 60.0
        self.failover_hook: FailoverCallback | None = None

    async def on_failover(self, summary: NodeFailover) -> None:
        if self.failover_hook is not None:
            await self.failover_hook(summary)

    async def on_event(self, guild_id: GuildId, event: LavalinkEvent) -> None:
        self.events.append((guild_id, event))
        self.changed.set()
        self.changed = anyio.Event()

    async def until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Poll cluster state (it changes from sockets, probes and tasks) under a deadline."""
        with anyio.fail_after(within):
            while not predicate():  # noqa: ASYNC110 - no single event covers every source
                await anyio.sleep(0.02)

    def status(self, name: str) -> NodeStatus:
        return {str(v.name): v.status for v in self.cluster.nodes()}[name]

    def fake(self, name: str) -> FakeLavalinkNode:
        return self.nodes[name]

    def holder(self, guild_id: int) -> str | None:
        found = [n for n, node in self.nodes.items() if guild_id in node.players]
        return found[0] if found else None


@asynccontextmanager
async def running(
    *,
    versions: dict[str, str] | None = None,
    profiles: dict[str, ServerProfile] | None = None,
    stores: tuple[HealthStore, AuditLog] | None = None,
    policy: HealthPolicy = FAST,
    return_hold_s: float = 60.0,
    sessions: SessionFile | None = None,
) -> AsyncIterator[Env]:
    env = Env()
    if stores is not None:
        env.health, env.audit = stores
    catalogue, env.songs = make_catalogue()
    names = [("us", "us-1"), ("us", "us-2"), ("eu", "eu-1"), ("eu", "eu-2")]
    for region, name in names:
        env.nodes[name] = await FakeLavalinkNode(
            password=PASSWORD,
            name=name,
            region=region,
            catalogue=catalogue,
            speed=SPEED,
            version=(versions or {}).get(name, "4.2.2"),
            player_update_interval=0.1,
            stats_interval=0.5,
            profile=(profiles or {}).get(name),
        ).start()
    env.specs = tuple(
        NodeSpec(NodeName(name), Region(region), env.nodes[name].base_url, PASSWORD, False)
        for region, name in names
    )
    env.policy, env.return_hold_s = policy, return_hold_s
    env.cluster = new_cluster(env, sessions)
    try:
        async with env.cluster:
            yield env
    finally:
        for node in env.nodes.values():
            await node.stop()


def new_cluster(env: Env, sessions: SessionFile | None = None) -> LavalinkCluster:
    """A cluster over ``env``'s nodes (a second one plays a restarted bot)."""
    return LavalinkCluster(
        env.specs,
        user_id=BOT_ID,
        client_name="VectoBeat/test",
        clock=env.clock,
        audit=env.audit,
        health_store=env.health,
        on_event=env.on_event,
        on_failover=env.on_failover,
        policy=env.policy,
        return_hold_s=env.return_hold_s,
        backoff=Backoff(base_s=0.05, cap_s=0.3),
        sessions=sessions,
    )


async def start_playing(
    env: Env, guild: int, region: Region, *, volume: int = 100, paused: bool = False
) -> None:
    gid = GuildId(guild)
    await env.cluster.ensure_player(gid, decision(region))
    await env.cluster.update_voice(
        gid,
        session_id=f"voice-{guild}",
        token=f"token-{guild}",
        endpoint="eu-central123.discord.media:443",
        channel_id=ChannelId(guild + 1),
    )
    await env.cluster.play(
        gid,
        track_of(env.songs[guild % len(env.songs)]),
        start_ms=10_000,
        volume=volume,
        paused=paused,
        filters={"timescale": {"speed": 1.0, "pitch": 1.0, "rate": 1.0}},
    )
