"""`LavalinkCluster` against fake nodes that deviate as real Lavalink-compatible servers do
(`vectobeat_testkit.lavalink.profiles`): each deviation is tolerated, never a dead node."""

from __future__ import annotations

import anyio
import pytest
from tests.integration.lavalink_cluster_env import Env, running, start_playing, track_of

from vectobeat_adapters.lavalink import TrackStart
from vectobeat_core.audit import AuditEvent
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId
from vectobeat_core.regions import Region
from vectobeat_testkit.lavalink import PROFILES, ServerProfile, parse_profiles

pytestmark = pytest.mark.anyio

ALL = ("us-1", "us-2", "eu-1", "eu-2")


def everywhere(profile: str) -> dict[str, ServerProfile]:
    return dict.fromkeys(ALL, parse_profiles(profile))


def play_bodies(env: Env, name: str, guild: int) -> list[dict[str, object]]:
    return [
        r.body
        for r in env.fake(name).requests
        if r.method == "PATCH" and r.path.endswith(f"/players/{guild}") and "track" in r.body
    ]


async def test_a_server_without_session_resuming_still_plays() -> None:
    async with running(profiles=everywhere("no-resume")) as env:
        assert all(env.status(name) is NodeStatus.UP for name in ALL)
        node = env.cluster.node("us-1")  # type: ignore[arg-type]
        assert node.connected
        assert node.resumes_sessions is False
        assert "HTTP 404" in (node.resume_problem or "")
        await start_playing(env, 7001, Region.US)
        holder = env.holder(7001)
        assert holder is not None
        assert env.fake(holder).players[7001].track is not None


async def test_a_lone_node_that_restarts_without_resuming_rebuilds_its_players() -> None:
    async with running(profiles=everywhere("no-resume")) as env:
        await start_playing(env, 7002, Region.US)
        home = env.holder(7002)
        assert home is not None
        for name in ALL:
            if name != home:
                await env.fake(name).kill()
        await env.until(lambda: all(env.status(n) is NodeStatus.DOWN for n in ALL if n != home))
        await env.fake(home).drop_websocket()  # the session and its players are gone
        await env.until(lambda: env.cluster.counts.players_rebuilt >= 1)
        player = env.fake(home).players[7002]
        assert player.track is not None
        assert player.position >= 10_000  # rebuilt where it was, not from the start
        assert player.voice  # with its voice state, so it is audible
        await env.cluster.set_volume(GuildId(7002), 70)
        assert env.fake(home).players[7002].volume == 70
        assert env.cluster.counts.players_stranded <= 1


async def test_a_partial_update_to_a_node_that_lost_the_player_rebuilds_it() -> None:
    async with running(profiles=everywhere("no-resume")) as env:
        await start_playing(env, 7003, Region.US)
        home = env.holder(7003)
        assert home is not None
        record = env.cluster.record(GuildId(7003))
        assert record is not None
        record.created_session = "a-session-the-node-forgot"  # as after a restart
        await env.cluster.set_volume(GuildId(7003), 55)
        player = env.fake(home).players[7003]
        assert player.volume == 55
        assert player.track is not None  # not an empty player created by the volume PATCH


async def test_tracks_with_length_minus_one_load_play_and_start() -> None:
    async with running(profiles=everywhere("odd-lengths")) as env:
        result = await env.cluster.load_tracks(env.songs[0].uri or "")
        assert result.kind == "track"
        assert result.tracks[0].length == 0  # unknown, not a reason to fail
        await start_playing(env, 7004, Region.US)
        await env.until(lambda: any(g == 7004 and isinstance(e, TrackStart) for g, e in env.events))
        assert env.cluster.counts.bad_payloads == 0


async def test_a_play_says_only_what_the_player_needs() -> None:
    async with running() as env:
        await start_playing(env, 7005, Region.US)
        home = env.holder(7005)
        assert home is not None
        first = play_bodies(env, home, 7005)[-1]
        assert "paused" not in first  # a fresh player starts unpaused: no explicit false
        await env.cluster.set_paused(GuildId(7005), True)
        await env.cluster.play(GuildId(7005), track_of(env.songs[2]))
        assert play_bodies(env, home, 7005)[-1]["paused"] is False  # unpause what was paused
        assert env.fake(home).players[7005].paused is False


async def test_load_averages_and_cumulative_frames_are_normalised() -> None:
    profiles = everywhere("load-average,cumulative-frames")
    async with running(profiles=profiles) as env:
        await start_playing(env, 7006, Region.US)
        home = env.holder(7006)
        assert home is not None
        env.fake(home).set_load(system_load=0.5, frame_deficit=300)
        env.fake(home).send_stats()

        def seen() -> bool:
            stats = {v.name: v.stats for v in env.cluster.nodes()}[home]  # type: ignore[index]
            return stats is not None and stats.system_load == pytest.approx(0.5)

        await env.until(seen)
        stats = {v.name: v.stats for v in env.cluster.nodes()}[home]  # type: ignore[index]
        assert stats is not None and stats.frames is not None
        assert stats.frames.sent + stats.frames.nulled <= 3000


def test_every_profile_parses_and_unknown_names_are_refused() -> None:
    for name in PROFILES:
        assert parse_profiles(name) != ServerProfile()
    assert parse_profiles("") == ServerProfile()
    with pytest.raises(ValueError, match="unknown server profile 'nope'"):
        parse_profiles("no-resume,nope")


class _StalledStores:
    """A health store and audit log that never answer (Redis or SQL blackholed)."""

    def __init__(self) -> None:
        self.calls = 0

    async def _stall(self) -> None:
        self.calls += 1
        await anyio.sleep_forever()

    async def put(self, health: NodeHealth, ttl: float) -> None:
        await self._stall()

    async def append(self, event: AuditEvent) -> None:
        await self._stall()


async def test_failover_never_waits_on_a_stalled_store() -> None:
    stalled = _StalledStores()
    async with running(stores=(stalled, stalled)) as env:  # type: ignore[arg-type]
        for guild in range(8001, 8005):
            await start_playing(env, guild, Region.US)
        home = env.holder(8001)
        assert home is not None
        on_home = [g for g in range(8001, 8005) if env.holder(g) == home]
        await env.fake(home).kill()
        await env.until(lambda: env.cluster.counts.players_moved >= len(on_home), within=5)
        assert all(env.holder(g) not in (None, home) for g in on_home)
        assert stalled.calls >= 1  # the stores were asked, and stalled, off the path


async def test_a_play_answered_at_zero_then_seeked_keeps_our_position() -> None:
    async with running(profiles=everywhere("seek-after-play")) as env:
        await start_playing(env, 7007, Region.US)  # starts at 10 s
        info = env.cluster.player(GuildId(7007))
        assert info is not None
        assert info.position_ms >= 10_000  # not the 0 the play answer said
        home = env.holder(7007)
        assert home is not None
        await env.fake(home).wait_for(lambda: env.fake(home).players[7007].position >= 10_000)
        await env.fake(home).kill()  # a move right after: resumes near 10 s, not near 0
        await env.until(lambda: env.holder(7007) not in (None, home))
        target = env.holder(7007)
        assert target is not None
        await env.fake(target).wait_for(lambda: env.fake(target).players[7007].position >= 10_000)
        info = env.cluster.player(GuildId(7007))
        assert info is not None
        assert info.position_ms >= 10_000


async def test_a_node_slowed_by_absorbing_a_failover_is_not_failed_too() -> None:
    # us-2 answers every REST call in 2 s while it is loaded: far beyond the 0.3 s probe timeout.
    async with running(profiles={"us-2": parse_profiles("slow-replies")}) as env:
        guilds = list(range(9001, 9021))
        for guild in guilds[:12]:
            await start_playing(env, guild, Region.US)
        env.fake("us-1").set_load(system_load=0.9)  # the rest go to us-2
        env.fake("us-1").send_stats()
        await env.until(lambda: _load(env, "us-1") > 0.5)
        for guild in guilds[12:]:
            await start_playing(env, guild, Region.US)
        env.fake("us-1").set_load(system_load=0.05)
        on_us1 = [g for g in guilds if env.holder(g) == "us-1"]
        assert on_us1 and len(on_us1) < len(guilds)  # both US nodes play (us-2 is heard from)
        await env.fake("us-1").kill()
        await env.until(lambda: all(env.holder(g) == "us-2" for g in on_us1), within=20)
        assert env.status("us-2") is not NodeStatus.DOWN
        assert env.cluster.counts.failovers == 1  # no second failover of the slowed node
        assert all(env.holder(g) is not None for g in guilds)


def _load(env: Env, name: str) -> float:
    stats = {str(v.name): v.stats for v in env.cluster.nodes()}[name]
    return 0.0 if stats is None else stats.system_load
