"""`LavalinkCluster` against real fake Lavalink v4 nodes on loopback (2 regions x 2 nodes).

The cluster's clock runs at the nodes' playback speed, so positions compare in track time.
Waits are event-driven (``node.wait_for`` / polling the cluster under a deadline), never sleeps
asserted on.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from tests.integration.lavalink_cluster_env import (
    BOT_ID,
    PASSWORD,
    decision,
    running,
    start_playing,
)
from tests.lavalink_support import NodeTimeClock

from vectobeat_adapters.lavalink import (
    LavalinkCluster,
    TrackEnd,
    TrackStart,
)
from vectobeat_adapters.lavalink.node import Backoff, check_version
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_core.audit import AuditKind
from vectobeat_core.errors import ConfigError, InvalidInput, NodeUnavailable, NotFound
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec

pytestmark = pytest.mark.anyio

# -- basics ----------------------------------------------------------------------------------


async def test_starts_with_every_node_up_and_no_password_in_views() -> None:
    async with running() as env:
        # a first probe slowed by a busy machine says DEGRADED; the next good ones say UP
        with anyio.fail_after(10):
            while any(v.status is not NodeStatus.UP for v in env.cluster.nodes()):  # noqa: ASYNC110
                await anyio.sleep(0.05)
        views = env.cluster.nodes()
        assert {v.name for v in views} == {"us-1", "us-2", "eu-1", "eu-2"}
        assert all(PASSWORD not in str(v.to_json()) for v in views)
        assert PASSWORD not in repr(env.cluster.specs)
        await env.cluster.flush_records()
        stored = await env.health.all()
        assert {h.node for h in stored} == {"us-1", "us-2", "eu-1", "eu-2"}


async def test_load_tracks_maps_every_result_kind() -> None:
    async with running() as env:
        one = await env.cluster.load_tracks(env.songs[0].uri or "")
        assert one.kind == "track"
        assert one.tracks[0].title == "Song 1"
        playlist = await env.cluster.load_tracks("https://example.test/list")
        assert (playlist.kind, playlist.playlist_name, playlist.selected) == ("playlist", "Mix", 1)
        assert [t.title for t in playlist.tracks] == ["Song 1", "Song 2", "Song 3"]
        search = await env.cluster.load_tracks("scsearch:cloud")
        assert search.kind == "search"
        assert [t.title for t in search.tracks] == ["Cloud Song"]
        assert (await env.cluster.load_tracks("ytsearch:nothing like it")).kind == "empty"
        broken = await env.cluster.load_tracks("https://example.test/broken")
        assert (broken.kind, broken.error) == ("error", "This video is unavailable")
        with pytest.raises(InvalidInput):
            await env.cluster.load_tracks("   ")


async def test_ensure_player_picks_least_loaded_node_in_region_and_audits() -> None:
    async with running() as env:
        env.fake("us-1").set_load(system_load=0.9)
        env.fake("us-1").send_stats()
        await env.until(
            lambda: any(
                v.name == "us-1" and v.stats is not None and v.stats.system_load > 0.5
                for v in env.cluster.nodes()
            )
        )
        info = await env.cluster.ensure_player(GuildId(42), decision(Region.US))
        assert (info.node, info.region) == ("us-2", Region.US)
        await env.cluster.flush_records()
        events = await env.audit.recent(GuildId(42))
        assert [e.kind for e in events] == [AuditKind.EFFECTIVE_REGION]
        assert events[0].data["node"] == "us-2"
        assert events[0].data["routing"] == "in_region"
        # asking again keeps the player where it is
        again = await env.cluster.ensure_player(GuildId(42), decision(Region.US))
        assert again.node == "us-2"


async def test_region_without_healthy_node_plays_elsewhere_and_audits_it() -> None:
    async with running() as env:
        await env.fake("us-1").kill()
        await env.fake("us-2").kill()
        await env.until(
            lambda: all(
                v.status is NodeStatus.DOWN for v in env.cluster.nodes() if v.spec.region == "us"
            )
        )
        info = await env.cluster.ensure_player(GuildId(7), decision(Region.US))
        assert info.region is Region.EU
        await env.cluster.flush_records()
        kinds = [e.kind for e in await env.audit.recent(GuildId(7))]
        assert AuditKind.REGION_UNAVAILABLE in kinds
        assert AuditKind.EFFECTIVE_REGION in kinds


async def test_play_and_controls_reach_the_node_and_events_come_back() -> None:
    async with running() as env:
        await start_playing(env, 1001, Region.EU, volume=80)
        name = env.cluster.player(GuildId(1001)).node  # type: ignore[union-attr]
        fake = env.fake(name)
        snap = fake.players[1001]
        assert snap.track is not None
        assert snap.track["encoded"] == env.songs[1001 % 5].encoded
        assert snap.volume == 80
        assert snap.voice["channelId"] == "1002"
        assert snap.voice["token"] == "token-1001"
        assert snap.filters == {"timescale": {"speed": 1.0, "pitch": 1.0, "rate": 1.0}}
        assert snap.position >= 10_000
        await env.until(lambda: any(isinstance(e, TrackStart) for _, e in env.events))

        gid = GuildId(1001)
        await env.cluster.set_paused(gid, True)
        assert fake.players[1001].paused
        info = env.cluster.player(gid)
        assert info is not None and info.paused
        await env.cluster.seek(gid, 120_000)
        assert abs(fake.players[1001].position - 120_000) < 50
        await env.cluster.set_volume(gid, 55)
        assert fake.players[1001].volume == 55
        await env.cluster.set_filters(gid, {"volume": 0.5})
        assert fake.players[1001].filters == {"volume": 0.5}
        with pytest.raises(InvalidInput):
            await env.cluster.set_volume(gid, 5000)
        await env.cluster.stop(gid)
        assert fake.players[1001].track is None
        await env.until(
            lambda: any(isinstance(e, TrackEnd) and e.reason == "stopped" for _, e in env.events)
        )
        await env.cluster.destroy(gid)
        assert 1001 not in fake.players
        assert env.cluster.player(gid) is None
        with pytest.raises(NotFound):
            await env.cluster.seek(gid, 0)


async def test_track_end_finished_is_forwarded_so_the_bot_can_advance() -> None:
    async with running() as env:
        gid = GuildId(2002)
        await env.cluster.ensure_player(gid, decision(Region.US))
        short = (await env.cluster.load_tracks("short")).tracks[0]
        await env.cluster.play(gid, short)
        await env.until(
            lambda: any(
                isinstance(e, TrackEnd) and e.reason == "finished" and e.starts_next
                for _, e in env.events
            )
        )
        info = env.cluster.player(gid)
        assert info is not None and info.track is None


# -- websocket loss, resume ------------------------------------------------------------------


async def test_dropped_websocket_moves_players_and_resumes_the_session() -> None:
    async with running() as env:
        for guild in range(3000, 3004):
            await start_playing(env, guild, Region.EU)
        holders = {env.holder(g) for g in range(3000, 3004)}
        assert len(holders) >= 1
        source = env.cluster.player(GuildId(3000)).node  # type: ignore[union-attr]
        on_source = [g for g in range(3000, 3004) if env.holder(g) == source]
        client = env.cluster.node(source)
        session_before = client.session_id
        await env.fake(source).drop_websocket()
        other = "eu-2" if source == "eu-1" else "eu-1"
        await env.until(lambda: all(g in env.fake(other).players for g in on_source))
        for guild in on_source:
            info = env.cluster.player(GuildId(guild))
            assert info is not None and info.node == other
        # the websocket comes back with the same session (resumed), and the old players go
        await env.until(lambda: client.resumes >= 1 and client.connected)
        assert client.session_id == session_before
        await env.until(lambda: not any(g in env.fake(source).players for g in on_source))
        await env.cluster.flush_records()
        moves = await env.audit.recent(None, kinds=[AuditKind.NODE_FAILOVER])
        assert {e.guild_id for e in moves} == set(on_source)


# -- bad input -------------------------------------------------------------------------------


async def test_node_lying_about_its_version_is_unusable_and_others_work() -> None:
    async with running(versions={"us-1": "3.7.0"}) as env:
        problems = {str(k): v for k, v in env.cluster.problems().items()}
        assert "us-1" in problems
        assert "3.7.0" in problems["us-1"]
        assert "v4" in problems["us-1"]
        assert env.status("us-1") is NodeStatus.DOWN
        assert env.status("us-2") is NodeStatus.UP
        for guild in range(10):
            info = await env.cluster.ensure_player(GuildId(4000 + guild), decision(Region.US))
            assert info.node == "us-2"
        assert env.fake("us-1").sessions == {}


def test_version_check_messages() -> None:
    assert check_version("a", "4.2.2") is None
    assert check_version("a", "4.0.0-beta.3") is None
    assert check_version("a", "0a1b2c3-SNAPSHOT") is None
    assert "Lavalink 3.7.0" in (check_version("a", "3.7.0") or "")
    assert "not a Lavalink version" in (check_version("a", "<html>oops</html>") or "")


async def test_garbage_and_unknown_ops_on_the_websocket_are_counted_not_fatal() -> None:
    async with running() as env:
        await start_playing(env, 5005, Region.US)
        name = env.cluster.player(GuildId(5005)).node  # type: ignore[union-attr]
        fake = env.fake(name)
        session = next(iter(fake.sessions.values()))
        session.send({"op": "mystery", "payload": 1})
        session.send({"op": "stats", "players": "lots"})  # odd fields are normalised, not bad
        session.send({"op": "event", "type": "TrackStartEvent", "guildId": "5005", "track": 3})
        session.send({"nope": True})
        await env.until(lambda: env.cluster.counts.bad_payloads >= 3)
        fake.send_garbage()
        await env.until(lambda: env.cluster.counts.bad_payloads >= 4)
        assert env.cluster.counts.bad_payloads == 4
        # still connected, still playing, still controllable
        assert env.cluster.node(name).connected
        await env.cluster.set_volume(GuildId(5005), 70)
        assert fake.players[5005].volume == 70


async def test_node_answering_garbage_json_goes_down_and_others_are_unaffected() -> None:
    async with running() as env:
        env.fake("eu-1").answer_garbage()
        await env.until(lambda: env.status("eu-1") is NodeStatus.DOWN)
        assert env.status("eu-2") is NodeStatus.UP
        result = await env.cluster.load_tracks(env.songs[1].uri or "")
        assert result.kind == "track"
        info = await env.cluster.ensure_player(GuildId(6006), decision(Region.EU))
        assert info.node == "eu-2"
        await env.fake("eu-1").revive()
        await env.until(lambda: env.status("eu-1") is NodeStatus.UP)


async def test_no_node_at_all_is_a_clear_error() -> None:
    async with running() as env:
        for fake in env.nodes.values():
            await fake.kill()
        await env.until(lambda: all(v.status is NodeStatus.DOWN for v in env.cluster.nodes()))
        with pytest.raises(NodeUnavailable):
            await env.cluster.ensure_player(GuildId(1), decision(Region.EU))
        with pytest.raises(NodeUnavailable):
            await env.cluster.load_tracks("ytsearch:song")


def test_cluster_needs_nodes_and_a_bot_id() -> None:
    clock = NodeTimeClock(1.0)
    kwargs: dict[str, Any] = {
        "client_name": "x",
        "clock": clock,
        "audit": MemoryAuditLog(),
        "health_store": MemoryHealthStore(clock),
    }
    with pytest.raises(ConfigError, match="LAVALINK_NODES"):
        LavalinkCluster((), user_id=BOT_ID, **kwargs)
    spec = NodeSpec(NodeName("a"), Region.EU, "http://127.0.0.1:1", "pw", False)
    with pytest.raises(ConfigError, match="unique"):
        LavalinkCluster((spec, spec), user_id=BOT_ID, **kwargs)
    with pytest.raises(ConfigError, match="user id"):
        LavalinkCluster((spec,), user_id=0, **kwargs)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    import random

    backoff = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(7))
    delays = [backoff.delay(n) for n in range(8)]
    for n, delay in enumerate(delays):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)
