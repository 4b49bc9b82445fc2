"""A restarted bot resumes its Lavalink sessions: players keep playing, none is doubled."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.lavalink_cluster_env import new_cluster, running, start_playing

from vectobeat_adapters.lavalink.sessions import SessionFile
from vectobeat_core.ids import GuildId
from vectobeat_core.regions import Region

pytestmark = pytest.mark.anyio


async def test_a_restarted_cluster_resumes_its_sessions_and_adopts_the_players(
    tmp_path: Path,
) -> None:
    sessions = SessionFile(tmp_path / "lavalink-sessions.json")
    async with running(sessions=sessions) as env:
        guilds = [7_100_000_000_000_000_001 + n for n in range(6)]
        for guild in guilds:
            await start_playing(env, guild, Region.US if guild % 2 else Region.EU)
        homes = {guild: env.holder(guild) for guild in guilds}
        await env.until(lambda: len(sessions.load()) == 4)  # written on every ready
        before = {name: set(node.sessions) for name, node in env.nodes.items()}
        ended = {g: len(env.fake(homes[g] or "").events(g, "TrackEndEvent")) for g in guilds}
        await env.cluster.__aexit__(None, None, None)  # the bot process goes away

        restarted = new_cluster(env, sessions)
        async with restarted:
            assert restarted.counts.players_adopted == len(guilds)
            for guild in guilds:
                info = restarted.player(GuildId(guild))
                assert info is not None and info.track is not None
                assert info.node == homes[guild]  # where it was, not a new placement
                assert info.position_ms >= 10_000
            for name, node in env.nodes.items():
                assert set(node.sessions) == before[name]  # resumed, no second session
            for guild in guilds:
                ends = env.fake(homes[guild] or "").events(guild, "TrackEndEvent")
                assert len(ends) == ended[guild]  # never stopped or replaced
            await restarted.set_volume(GuildId(guilds[0]), 40)
            home = homes[guilds[0]]
            assert home is not None
            assert env.fake(home).players[guilds[0]].volume == 40


async def test_an_unreadable_session_file_means_a_fresh_start(tmp_path: Path) -> None:
    path = tmp_path / "lavalink-sessions.json"
    path.write_text("{not json")
    async with running(sessions=SessionFile(path)) as env:
        await start_playing(env, 7_200_000_000_000_000_001, Region.US)
        assert env.cluster.counts.players_adopted == 0
