"""`LavalinkCluster` end to end against nodes of the ``sloppy`` profile (loose JSON as NodeLink,
forks and proxies send it, `vectobeat_testkit.lavalink.sloppy`): searches load, positions and
stats are read, a finished track advances the queue, a dropped websocket resumes, and no message
is counted as bad; a restarted cluster adopts its resumed players."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.lavalink_cluster_env import (
    Env,
    new_cluster,
    running,
    start_playing,
    track_of,
)

from vectobeat_adapters.lavalink import TrackEnd, TrackStart
from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_core.ids import GuildId
from vectobeat_core.regions import Region
from vectobeat_core.tracks import Track
from vectobeat_testkit.lavalink import ServerProfile, parse_profiles

pytestmark = pytest.mark.anyio

ALL = ("us-1", "us-2", "eu-1", "eu-2")


def sloppy() -> dict[str, ServerProfile]:
    return dict.fromkeys(ALL, parse_profiles("sloppy"))


def home_of(env: Env, guild: int) -> str:
    home = env.holder(guild)
    assert home is not None
    return home


async def test_the_sloppy_node_sends_what_the_profile_says() -> None:
    async with running(profiles=sloppy()) as env:
        await start_playing(env, 7101, Region.US)
        fake = env.fake(home_of(env, 7101))
        await fake.wait_for(lambda: len(fake.events(7101, "TrackStartEvent")) == 1)
        fake.send_player_updates()
        fake.send_stats()
        sent = fake.sent()
        ready = next(m for m in sent if m["op"] == "ready")
        assert ready["resumed"] == 0
        stats = [m for m in sent if m["op"] == "stats"][-1]
        assert stats["players"] == "1" and "frameStats" not in stats
        update = next(m for m in sent if m["op"] == "playerUpdate")
        assert update["guildId"] == 7101 and isinstance(update["state"]["position"], str)
        kinds = [m.get("type") for m in sent if m["op"] == "event"]
        assert kinds[:2] == ["SegmentsLoaded", "TrackStartEvent"]
        start = fake.events(7101, "TrackStartEvent")[0]
        assert start["track"]["info"]["uri"] is None and "sloppyExtra" in start
        answer = await env.cluster.node("us-1").request(  # type: ignore[arg-type]
            "GET", "/v4/loadtracks", query={"identifier": "ytsearch:song"}
        )
        assert answer["loadType"] == "SEARCH"


async def test_a_search_loads_and_its_tracks_play() -> None:
    async with running(profiles=sloppy()) as env:
        result = await env.cluster.load_tracks("ytsearch:song")
        assert result.kind == "search"
        assert [t.title for t in result.tracks] == [s.title for s in env.songs]
        assert result.tracks[0].uri is None
        await start_playing(env, 7102, Region.US)
        await env.until(lambda: (7102, TrackStart) in [(g, type(e)) for g, e in env.events])
        assert env.cluster.counts.bad_payloads == 0  # SegmentsLoaded is ignored, not bad


async def test_positions_from_player_updates_are_read() -> None:
    async with running(profiles=sloppy()) as env:
        await start_playing(env, 7103, Region.US)  # at 10 s of a 10-minute song
        home = home_of(env, 7103)
        session = env.cluster.node(home).session_id  # type: ignore[arg-type]
        # the node seeks by itself (another controller, a plugin): only its updates tell us
        await env.cluster.node(home).request(  # type: ignore[arg-type]
            "PATCH", f"/v4/sessions/{session}/players/7103", body={"position": 300_000}
        )

        def position() -> int:
            info = env.cluster.player(GuildId(7103))
            return 0 if info is None else info.position_ms

        await env.until(lambda: position() >= 300_000)
        assert env.cluster.counts.bad_payloads == 0


async def test_stats_are_read_without_frame_stats() -> None:
    async with running(profiles=sloppy()) as env:
        await start_playing(env, 7104, Region.US)
        home = home_of(env, 7104)

        def players() -> int:
            stats = {str(v.name): v.stats for v in env.cluster.nodes()}[home]
            return 0 if stats is None else stats.players

        env.fake(home).send_stats()
        await env.until(lambda: players() == 1)
        stats = {str(v.name): v.stats for v in env.cluster.nodes()}[home]
        assert stats is not None and stats.frames is None


async def test_a_finished_track_advances_the_queue() -> None:
    async with running(profiles=sloppy()) as env:
        gid = GuildId(7105)
        await start_playing(env, 7105, Region.US)
        short = Track.from_lavalink(env.fake("us-1").catalogue.load("short")["data"])
        queue = [short, track_of(env.songs[1])]
        await env.cluster.play(gid, queue.pop(0))

        def ends() -> list[TrackEnd]:
            found = [e for g, e in env.events if g == gid and isinstance(e, TrackEnd)]
            return [e for e in found if e.track is not None and e.track.identifier == "short"]

        await env.until(lambda: bool(ends()))
        assert ends()[0].reason == "finished"  # sent as FINISHED
        assert ends()[0].starts_next  # the bot's rule: advance the queue
        await env.cluster.play(gid, queue.pop(0))
        await env.until(lambda: env.fake(home_of(env, 7105)).players[7105].track is not None)
        info = env.cluster.player(gid)
        assert info is not None and info.track is not None
        assert info.track.title == env.songs[1].title
        assert env.cluster.counts.bad_payloads == 0


async def test_a_dropped_websocket_moves_players_and_resumes_the_session() -> None:
    async with running(profiles=sloppy()) as env:
        guilds = range(7110, 7114)
        for guild in guilds:
            await start_playing(env, guild, Region.EU)
        source = home_of(env, 7110)
        on_source = [g for g in guilds if env.holder(g) == source]
        client = env.cluster.node(source)  # type: ignore[arg-type]
        session_before = client.session_id
        await env.fake(source).drop_websocket()
        other = "eu-2" if source == "eu-1" else "eu-1"
        await env.until(lambda: all(g in env.fake(other).players for g in on_source))
        await env.until(lambda: client.resumes >= 1 and client.connected)  # resumed: 1
        assert client.session_id == session_before
        # the resumed session's players of guilds that moved away are deleted (guildId a number)
        await env.until(lambda: not any(g in env.fake(source).players for g in on_source))
        assert env.cluster.counts.bad_payloads == 0


async def test_a_restarted_cluster_adopts_the_players_of_its_resumed_sessions(
    tmp_path: Path,
) -> None:
    sessions = SessionFile(tmp_path / "lavalink-sessions.json")
    async with running(profiles=sloppy(), sessions=sessions) as env:
        guilds = [7120, 7121, 7122]
        for guild in guilds:
            await start_playing(env, guild, Region.US)
        await env.until(lambda: len(sessions.load()) == len(ALL))
        await env.cluster.__aexit__(None, None, None)  # the bot process goes away
        async with new_cluster(env, sessions) as restarted:
            assert restarted.counts.players_adopted == len(guilds)  # listed by numeric guildId
            assert restarted.counts.bad_payloads == 0
