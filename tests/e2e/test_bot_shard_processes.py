"""Several bot processes for real: 3 processes x 4 shards + 1 hot spare on the fake Discord (12
shards) and one private Redis, a guild playing in every shard.

One shard's gateway connection stalls inside a running process (the fake stops answering it): that
process stops the shard before its lease goes stale and the spare takes it over and restores its
guild. Then a whole process is killed (SIGKILL): the spare takes its four shards. Every guild plays
again on a live Lavalink session, every shard has exactly one live gateway session, the fake never
saw two sessions for one shard at once, and only one process synced the slash commands.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world, problem_lines

from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_core.ids import GuildId, ShardId
from vectobeat_core.plans import Tier
from vectobeat_testkit.redis_server import private_redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(420)]

SHARD_COUNT = 12
RANGES = ["0,1,2,3", "4,5,6,7", "8,9,10,11"]
STALE = 2.0
HEARTBEAT_MS = 250  # discord.py heartbeats this often: a stall shows within one interval
SHARDS = {
    "VECTOBEAT_SHARD_COUNT": str(SHARD_COUNT),
    "VECTOBEAT_SHARD_STALE_AFTER": str(STALE),
}
STALLED = 5  # a shard of the second process
KILLED = 2  # the third process (shards 8-11)


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Until ``check()`` holds: other processes' state can only be polled."""
    with anyio.fail_after(within):
        while not await check():  # noqa: ASYNC110 - no event crosses the process boundary
            await anyio.sleep(0.1)


async def guild_per_shard(w: BotWorld) -> dict[int, E2EGuild]:
    found: dict[int, E2EGuild] = {}
    n = 0
    while len(found) < SHARD_COUNT:
        made = await w.add_guild(f"g{n}", Tier.PRO)
        n += 1
        found.setdefault(made.guild.shard_id(SHARD_COUNT), made)
        assert n < 40 * SHARD_COUNT, "the fake's guild ids do not spread over the shards"
    return found


def live_players(w: BotWorld, guild: E2EGuild) -> list[str]:
    """Lavalink session ids with a player of ``guild`` holding a track, on live sessions only
    (a killed process's session is paused until it expires)."""
    found = []
    for node in w.nodes.values():
        engine = node._engine
        for player in engine.all_players():
            snap = player.snapshot()
            session = engine.sessions.get(snap.session_id)
            playing = snap.guild_id == guild.id and snap.track is not None
            if playing and session is not None and not session.paused:
                found.append(snap.session_id)
    return found


def owner_of(bot: BotProcess) -> str:
    assert bot.process is not None
    return f":{bot.process.pid}"


@asynccontextmanager
async def processes(tg: anyio.abc.TaskGroup) -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for bot in started:
            if bot.process is not None and bot.process.returncode is None:
                await bot.stop(signal.SIGKILL)
        tg.cancel_scope.cancel()


async def test_three_processes_and_a_spare_survive_a_stalled_shard_and_a_killed_process(
    tmp_path: Path,
) -> None:
    async with (
        private_redis_server(tmp_path) as redis_url,
        bot_world(tmp_path, redis_url=redis_url, heartbeat_interval_ms=HEARTBEAT_MS) as w,
        open_redis(redis_url) as conn,
        anyio.create_task_group() as tg,
    ):
        leases = RedisLeaseStore(conn, RedisKeys())
        queues = RedisQueueStore(conn, RedisKeys())
        guilds = await guild_per_shard(w)
        async with processes(tg) as started:
            owners = [BotProcess(w.env(VECTOBEAT_SHARD_IDS=r, **SHARDS), w.tmp) for r in RANGES]
            spare = BotProcess(w.env(VECTOBEAT_SHARD_SPARE="true", **SHARDS), w.tmp)
            started.extend([*owners, spare])
            async with anyio.create_task_group() as starting:  # all four start together
                for bot in started:
                    starting.start_soon(bot.start, tg, 120.0)

            async def every_shard_online() -> bool:  # a process is ready before its last shard
                return w.fake.gateway.ready_shards() == list(range(SHARD_COUNT))

            await eventually(every_shard_online, 60)
            overwrites = [r for r in w.fake.recorded if r.kind == "commands_overwrite"]
            assert len(overwrites) == 1, "every process synced the slash commands"

            for guild in guilds.values():
                await w.voice(guild, guild.member)
                answer = await w.run(guild, guild.member, "play", {"query": "Alpha Song"}, 30)
                assert not answer.ephemeral, answer.content
            for guild in guilds.values():
                await w.wait_player(guild, "Alpha Song", 30)

            async def all_stored() -> bool:
                loaded = [await queues.load(GuildId(g.id)) for g in guilds.values()]
                return all(snapshot is not None for snapshot in loaded)

            await eventually(all_stored, 30)

            # 1. one shard's connection stalls inside a running process
            stalled_guild = guilds[STALLED]
            before = live_players(w, stalled_guild)
            w.fake.stall_shard(STALLED)

            async def spare_holds(shards: list[int]) -> bool:
                held = {lease.shard_id: lease.owner for lease in await leases.all()}
                return all(held.get(ShardId(s), "").endswith(owner_of(spare)) for s in shards)

            await eventually(lambda: spare_holds([STALLED]), 30)
            await w.wait_nodes(lambda: bool(set(live_players(w, stalled_guild)) - set(before)), 30)
            assert len(live_players(w, stalled_guild)) == 1, "the guild plays exactly once"
            assert "shard_stopped shard=5 reason=stalled" in owners[1].logs(limit=None)
            assert STALLED in w.fake.gateway.ready_shards()

            # 2. a whole process dies
            victim = owners[KILLED]
            victim_shards = [int(s) for s in RANGES[KILLED].split(",")]
            await victim.stop(signal.SIGKILL)
            await eventually(lambda: spare_holds(victim_shards), 60)

            def every_guild_plays_once() -> bool:
                return all(len(live_players(w, g)) == 1 for g in guilds.values())

            await w.wait_nodes(every_guild_plays_once, 60)
            assert w.fake.gateway.ready_shards() == list(range(SHARD_COUNT))
            answer = await w.run(guilds[victim_shards[0]], guilds[victim_shards[0]].member, "queue")
            assert "Alpha Song" in answer.content

        w.fake.gateway.assert_single_sessions()
        for bot in (*owners[:KILLED], spare):
            assert not problem_lines(bot.logs(limit=None)), bot.logs()
