"""Shard redundancy with two real bot processes, the fake Discord (2 shards) and Redis.

The owner runs shards 0 and 1 through leases and plays in a guild of shard 1; a hot spare stands
by. The owner is frozen (SIGSTOP): the spare takes the shards over, restores the guild's player
from its snapshot and answers an interaction there. Thawed (SIGCONT), the owner gives up
those shards without resuming their sessions (Discord never sees two sessions for a shard) and lets
its players go, so the guild plays once.
"""

from __future__ import annotations

import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from tests.conftest import service_url
from tests.e2e.conftest import (
    BotProcess,
    BotWorld,
    E2EGuild,
    bot_world,
    clear_snapshots,
    problem_lines,
)
from tests.integration.test_alarms import receiver

from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.sql.audit import SqlAuditLog
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(240)]

STALE = "2"  # seconds of wall clock without a renewal before the spare takes over
SHARDS = {"VECTOBEAT_SHARD_COUNT": "2", "VECTOBEAT_SHARD_STALE_AFTER": STALE}
HEARTBEAT_MS = 250
"""The fake gateway times the frozen owner's connections out after two intervals, as Discord
does, well before the spare connects its shards."""


async def free_leases(store: RedisLeaseStore) -> None:
    for lease in await store.all():
        await store.release(lease)


async def guild_in_shard(w: BotWorld, shard: int) -> E2EGuild:
    for n in range(64):
        made = await w.add_guild(f"s{shard}-{n}", Tier.PRO)
        if made.guild.shard_id(2) == shard:
            return made
    raise AssertionError(f"no fake guild landed in shard {shard}")


def players_of(w: BotWorld, guild: E2EGuild) -> list[tuple[str, str]]:
    """(node, Lavalink session) of every player the guild has with a track, on any session."""
    found = []
    for node in w.nodes.values():
        for player in node._engine.all_players():
            snap = player.snapshot()
            if snap.guild_id == guild.id and snap.track is not None:
                found.append((node.name, snap.session_id))
    return found


@asynccontextmanager
async def processes(tg: anyio.abc.TaskGroup) -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for bot in started:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.send_signal(signal.SIGCONT)
                await bot.stop(signal.SIGKILL)
        tg.cancel_scope.cancel()


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Until ``check()`` holds: another process's state can only be polled."""
    with anyio.fail_after(within):
        while not await check():  # noqa: ASYNC110 - no event crosses the process boundary
            await anyio.sleep(0.05)


async def stored(queues: RedisQueueStore, guild: E2EGuild) -> bool:
    return await queues.load(GuildId(guild.id)) is not None


async def promoted(spare: BotProcess, count: int) -> bool:
    return await metric(spare, "vectobeat_shard_promotions_total") >= count


async def logged(bot: BotProcess, text: str, count: int) -> bool:
    return bot.logs(limit=None).count(text) >= count


async def only_spare_connected(w: BotWorld) -> bool:
    sessions = w.fake.gateway.sessions.values()
    return sorted(s.shard_id for s in sessions if s.ws is not None and not s.ws.closed) == [0, 1]


async def incidents_settled(events: list[dict[str, str]]) -> bool:
    """A promotion trigger then its resolve, with the same dedup key, for shards 0 and 1."""
    actions: dict[str, list[str]] = {}
    for event in events:
        actions.setdefault(event["dedup_key"], []).append(event["event_action"])
    return actions == {f"shard:{n}:promoted": ["trigger", "resolve"] for n in (0, 1)}


async def metric(bot: BotProcess, name: str) -> float:
    text = (await bot.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not exported:\n{text}")


async def test_a_spare_takes_over_a_frozen_bots_shards_and_the_owner_is_fenced(
    tmp_path: Path,
) -> None:
    redis_url = service_url("redis")
    async with (
        bot_world(tmp_path, redis_url=redis_url, heartbeat_interval_ms=HEARTBEAT_MS) as w,
        open_redis(redis_url) as conn,
        receiver() as pagerduty,
        anyio.create_task_group() as tg,
    ):
        leases = RedisLeaseStore(conn, RedisKeys())
        queues = RedisQueueStore(conn, RedisKeys())
        await free_leases(leases)
        guild = await guild_in_shard(w, 1)
        await clear_snapshots(redis_url, [g.id for g in w.guilds.values()])
        async with processes(tg) as started:
            owner = BotProcess(w.env(VECTOBEAT_SHARD_IDS="0,1", **SHARDS), w.tmp)
            started.append(owner)
            await owner.start(tg)
            assert sorted(w.fake.gateway.ready_shards()) == [0, 1]
            await w.voice(guild, guild.member)
            for title in ("Alpha Song", "Bravo Song"):
                answer = await w.run(guild, guild.member, "play", {"query": title})
                assert not answer.ephemeral, answer.content
            _, before = await w.wait_player(guild, "Alpha Song")
            await eventually(lambda: stored(queues, guild), 15)

            alarms = {
                "VECTOBEAT_ALARM_PAGERDUTY_ROUTING_KEY": "R" * 32,
                "VECTOBEAT_ALARM_PAGERDUTY_URL": pagerduty.url("/pd"),
            }
            spare = BotProcess(w.env(VECTOBEAT_SHARD_SPARE="true", **SHARDS, **alarms), w.tmp)
            started.append(spare)
            await spare.start(tg)  # ready while standing by, with no shard
            assert (await spare.get("/status")).json()["guilds"] == 0
            assert await metric(spare, "vectobeat_shard_promotions_total") == 0

            assert owner.process is not None
            owner.process.send_signal(signal.SIGSTOP)  # a real stall: no renewals, no heartbeats
            await eventually(lambda: promoted(spare, 2), 60)
            owners = {lease.owner for lease in await leases.all()}
            assert len(owners) == 1 and all(lease.epoch >= 2 for lease in await leases.all())

            # the spare restored the guild's player on its own Lavalink session and answers there
            await w.wait_nodes(
                lambda: any(s != before.session_id for _, s in players_of(w, guild)), 20
            )
            answer = await w.run(guild, guild.member, "queue")
            assert "Alpha Song" in answer.content and "Bravo Song" in answer.content
            assert "shard_promoted shard=1" in spare.logs(limit=None)
            await eventually(lambda: incidents_settled(pagerduty.bodies("/pd")), 20)
            async with open_database(f"sqlite+aiosqlite:///{w.tmp / 'bot.db'}") as db:
                audited = await SqlAuditLog(db).recent(None, kinds=[AuditKind.SHARD_FAILOVER])
            assert sorted(str(e.data["shard_id"]) for e in audited) == ["0", "1"]
            assert {e.data["new_owner"] for e in audited} == owners

            owner.process.send_signal(signal.SIGCONT)
            await eventually(lambda: logged(owner, "shard_stopped", 2), 30)
            # frozen past the surrender point it gives the shard up on thaw (reason=stalled), or
            # its first renewal is refused (reason=fenced): either way it stops it
            stopped = r"shard_stopped shard=1 reason=(fenced|stalled) players_released=1"
            assert re.search(stopped, owner.logs(None)), owner.logs()
            # the owner let its player go: the guild plays once
            await w.wait_nodes(
                lambda: all(s != before.session_id for _, s in players_of(w, guild)), 20
            )
            assert len(players_of(w, guild)) == 1
            # only the spare's gateway sessions stay open: the owner closed both shards
            await eventually(lambda: only_spare_connected(w), 20)
            assert {lease.owner for lease in await leases.all()} == owners
            assert not problem_lines(spare.logs(limit=None)), spare.logs()
            # the thawed owner gave its shards up instead of resuming next to the spare
            w.fake.gateway.assert_single_sessions()
        await free_leases(leases)
