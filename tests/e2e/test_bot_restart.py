"""SIGKILL the bot mid-playback: a new process restores every guild's player and queue from Redis."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.conftest import service_url
from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world, clear_snapshots

from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]


async def wait_new_player(
    w: BotWorld, guild: E2EGuild, old_session: str, title: str
) -> tuple[str, Any]:
    """The guild's player on a session other than ``old_session`` (one that was not resumed)."""
    found: list[tuple[str, Any]] = []

    def restored() -> bool:
        for node in w.nodes.values():
            for player in node._engine.all_players():  # every session's players
                snap = player.snapshot()
                if (
                    snap.guild_id == guild.id
                    and snap.session_id != old_session
                    and snap.track is not None
                    and snap.track["info"]["title"] == title
                ):
                    found.append((node.name, snap))
                    return True
        return False

    await w.wait_nodes(restored, 20)
    return found[-1]


async def wait_kept_player(w: BotWorld, guild: E2EGuild, title: str) -> tuple[str, Any]:
    """The guild's one player playing ``title`` once the restarted bot took it over."""
    found: list[tuple[str, Any]] = []

    def kept() -> bool:
        players = [
            (node.name, player.snapshot())
            for node in w.nodes.values()
            for player in node._engine.all_players()  # every session's players
            if player.guild_id == guild.id
        ]
        assert len(players) <= 1, players  # never a second player, at any moment
        track = players[0][1].track if players else None
        if track is not None and track["info"]["title"] == title:
            found.append(players[0])
            return True
        return False

    await w.wait_nodes(kept, 20)
    return found[-1]


async def test_sigkill_mid_playback_keeps_every_guild_playing(tmp_path: Path) -> None:
    redis_url = service_url("redis")
    async with bot_world(tmp_path, redis_url=redis_url) as w:
        plain = await w.add_guild("plain", Tier.FREE)
        paused = await w.add_guild("paused", Tier.PRO)
        pinned = await w.add_guild("pinned", Tier.GROWTH, ServerSettings(region=Region.EU))
        await clear_snapshots(redis_url, [plain.id, paused.id, pinned.id])
        async with anyio.create_task_group() as tg:
            first = BotProcess(w.env(), w.tmp)
            await first.start(tg)
            for guild, titles in (
                (plain, ("Alpha Song", "Bravo Song", "Charlie Song")),
                (paused, ("Delta Song", "Echo Song")),
                (pinned, ("Foxtrot Song", "Golf Song", "Hotel Song")),
            ):
                await w.voice(guild, guild.member)
                for title in titles:
                    answer = await w.run(guild, guild.member, "play", {"query": title})
                    assert not answer.ephemeral, answer.content
            await w.run(plain, plain.member, "seek", {"position": "2:00"})
            await w.run(paused, paused.member, "volume", {"level": 80})
            await w.run(paused, paused.member, "loop", {"mode": "queue"})
            await w.run(paused, paused.member, "pause")
            expected: dict[int, tuple[str, Any, str]] = {}
            queues: dict[int, str] = {}
            for guild, title in (
                (plain, "Alpha Song"),
                (paused, "Delta Song"),
                (pinned, "Foxtrot Song"),
            ):
                node, player = await w.wait_player(guild, title)
                expected[guild.id] = (title, player, node)
                queues[guild.id] = (await w.run(guild, guild.member, "queue")).content
            await w.wait_nodes(lambda: w.player(paused)[1].paused is True)  # type: ignore[index]
            # the durable store has caught up (the writer coalesces within its window)
            async with open_redis(redis_url) as conn:
                store = RedisQueueStore(conn, RedisKeys())
                with anyio.fail_after(10):
                    while True:
                        snaps = [await store.load(GuildId(g.id)) for g in (plain, paused, pinned)]
                        if all(s is not None and s.current is not None for s in snaps) and (
                            snaps[1] is not None
                            and snaps[1].player.paused
                            and snaps[1].player.volume == 80
                            and snaps[0] is not None
                            and snaps[0].player.position_ms >= 120_000
                        ):
                            break
                        await anyio.sleep(0.05)

            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL

            second = BotProcess(w.env(), w.tmp)
            await second.start(tg)  # ready only once every snapshot was restored
            try:
                for guild in (plain, paused, pinned):
                    title, before, node_before = expected[guild.id]
                    node, after = await wait_kept_player(w, guild, title)
                    # the session was resumed: the same player kept playing on the same node
                    assert after.session_id == before.session_id
                    assert node == node_before
                    assert after.voice.get("channelId") == str(guild.voice_channel)
                    assert after.paused == before.paused
                    assert after.volume == before.volume
                    if before.paused:
                        assert abs(after.position - before.position) < 2_000
                    else:
                        assert after.position >= before.position
                    assert (await w.run(guild, guild.member, "queue")).content == queues[guild.id]
                assert expected[plain.id][1].position >= 120_000
                assert expected[pinned.id][2] == "eu-1"
                status = (await second.get("/status")).json()
                assert status["restored_players"] == 3
                assert status["queue_tracks"] == 8
            finally:
                code = await second.stop(signal.SIGTERM)
            assert code == 0, second.logs()
            tg.cancel_scope.cancel()
        async with open_redis(redis_url) as conn:  # SIGTERM flushed: the snapshots are current
            kept = await RedisQueueStore(conn, RedisKeys()).load(GuildId(plain.id))
        assert kept is not None and kept.current is not None
        assert kept.current.track.title == "Alpha Song"
        assert [e.track.title for e in kept.entries] == ["Bravo Song", "Charlie Song"]
        assert kept.player.voice_channel_id == plain.voice_channel
