"""Nothing acknowledged is lost: the real bot process, real Redis, SIGKILL right after the replies.

Each test runs a ``redis-server`` of its own (the fake Discord's guild ids repeat from run to run,
so a shared Redis could hold another run's snapshots of the same guilds).

1. 20 parallel ``/play`` adds, SIGKILL 1 ms after the last reply: a new process has all 20.
2. The same with Redis cut (through a ``FaultProxy``) during the adds: the replies wait for the
   local journal; the next start (Redis back) replays it and has all 20.
3. A private ``redis-server`` flushed while guilds play: every guild's snapshot is back within
   seconds; SIGKILL and a new process then restores everything.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.abc
import pytest

from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world
from vectobeat_adapters.config import load_config
from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.services import open_services
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import QueueStore
from vectobeat_testkit.faultproxy import FaultProxy
from vectobeat_testkit.redis_server import RedisServerMissing, private_redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(240)]

GUILDS = 4
ADDS_PER_GUILD = 5  # 20 adds in all


def titles(n: int) -> list[str]:
    return [f"Filler {i:03d}" for i in range(n)]


async def growth_guilds(w: BotWorld, count: int) -> list[E2EGuild]:
    guilds = [await w.add_guild(f"g{i}", Tier.GROWTH) for i in range(count)]
    for guild in guilds:
        await w.voice(guild, guild.member)
    return guilds


async def play_in_parallel(w: BotWorld, plan: dict[int, list[str]]) -> None:
    """Every ``/play`` of ``plan`` (guild id -> queries) at once; each must be acknowledged."""
    by_id = {g.id: g for g in w.guilds.values()}
    answers: list[str] = []

    async def play(guild: E2EGuild, query: str) -> None:
        answer = await w.run(guild, guild.member, "play", {"query": query}, timeout=30)
        assert not answer.ephemeral, answer.content
        answers.append(answer.content)

    async with anyio.create_task_group() as tg:
        for guild_id, queries in plan.items():
            for query in queries:
                tg.start_soon(play, by_id[guild_id], query)
    assert len(answers) == sum(len(q) for q in plan.values())


async def _titles(store: QueueStore, guilds: list[E2EGuild]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for guild in guilds:
        snapshot = await store.load(GuildId(guild.id))
        if snapshot is None:
            out[guild.id] = []
            continue
        current = [] if snapshot.current is None else [snapshot.current.track.title]
        out[guild.id] = current + [entry.track.title for entry in snapshot.entries]
    return out


async def stored_titles(url: str, guilds: list[E2EGuild]) -> dict[int, list[str]]:
    """Each guild's stored queue (current track first), read straight from the store: Redis at
    ``url``, or the SQL database at ``url`` (the queue store without Redis)."""
    if not url.startswith("redis"):
        config = load_config(environ={"DATABASE_URL": url})
        async with open_services(config) as services:
            return await _titles(services.queues, guilds)
    async with open_redis(url) as conn:
        return await _titles(RedisQueueStore(conn, RedisKeys()), guilds)


def split(guilds: list[E2EGuild]) -> dict[int, list[str]]:
    names = titles(len(guilds) * ADDS_PER_GUILD)
    return {
        guild.id: names[i * ADDS_PER_GUILD : (i + 1) * ADDS_PER_GUILD]
        for i, guild in enumerate(guilds)
    }


async def restart_and_check(
    w: BotWorld, tg: anyio.abc.TaskGroup, url: str, plan: dict[int, list[str]], **env: str
) -> None:
    """Start a new bot process: every planned title is in its guild's restored queue."""
    second = BotProcess(w.env(**env), w.tmp)
    await second.start(tg)  # ready once the journal is replayed and every queue restored
    try:
        status = (await second.get("/status")).json()
        stored = await stored_titles(url, list(w.guilds.values()))
        for guild_id, wanted in plan.items():
            assert sorted(stored[guild_id]) == sorted(wanted), (guild_id, stored, second.logs())
        assert status["queue_tracks"] == sum(len(q) for q in plan.values()), (stored, status)
        assert status["queue_store"]["journaled_guilds"] == 0
    finally:
        assert await second.stop(signal.SIGTERM) == 0, second.logs()


@contextlib.asynccontextmanager
async def private_redis(tmp: Path) -> AsyncIterator[str]:
    """A redis-server of our own on a free port (no persistence), stopped afterwards."""
    try:
        async with private_redis_server(tmp) as url:
            yield url
    except RedisServerMissing:
        pytest.skip("redis-server is not installed")


async def test_sigkill_one_ms_after_twenty_acknowledged_adds_loses_none(tmp_path: Path) -> None:
    async with private_redis(tmp_path) as url, bot_world(tmp_path, redis_url=url) as w:
        guilds = await growth_guilds(w, GUILDS)
        plan = split(guilds)
        async with anyio.create_task_group() as tg:
            first = BotProcess(w.env(), w.tmp)
            await first.start(tg)
            await play_in_parallel(w, plan)
            await anyio.sleep(0.001)
            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
            await restart_and_check(w, tg, url, plan)
            tg.cancel_scope.cancel()


async def test_sigkill_after_twenty_acknowledged_adds_loses_none_on_the_sql_store(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:  # the Quickstart default: SQLite
        url = f"sqlite+aiosqlite:///{w.tmp / 'bot.db'}"
        guilds = await growth_guilds(w, GUILDS)
        plan = split(guilds)
        async with anyio.create_task_group() as tg:
            first = BotProcess(w.env(), w.tmp)
            await first.start(tg)
            await play_in_parallel(w, plan)
            await anyio.sleep(0.001)
            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
            assert sorted_equal(await stored_titles(url, guilds), plan)  # stored, not journaled
            await restart_and_check(w, tg, url, plan)
            tg.cancel_scope.cancel()


async def test_adds_acknowledged_while_redis_is_cut_are_journaled_and_replayed(
    tmp_path: Path,
) -> None:
    async with private_redis(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with FaultProxy(port).in_thread() as proxy:
            proxied = f"redis://127.0.0.1:{proxy.port}/0"
            async with bot_world(tmp_path, redis_url=url) as w:
                guilds = await growth_guilds(w, GUILDS)
                plan = split(guilds)
                async with anyio.create_task_group() as tg:
                    first = BotProcess(w.env(VECTOBEAT_REDIS_URL=proxied), w.tmp)
                    await first.start(tg)
                    proxy.cut()
                    await play_in_parallel(w, plan)
                    status = (await first.get("/status")).json()
                    assert status["queue_store"]["down"] is True, first.logs()
                    await anyio.sleep(0.001)
                    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
                    assert await stored_titles(url, guilds) == {g.id: [] for g in guilds}
                    assert (w.tmp / ".vectobeat" / "queue-journal.sqlite3").exists()
                    proxy.heal()
                    await restart_and_check(w, tg, url, plan, VECTOBEAT_REDIS_URL=proxied)
                    tg.cancel_scope.cancel()


async def test_a_flushed_redis_gets_every_guild_back_and_a_crash_then_loses_nothing(
    tmp_path: Path,
) -> None:
    async with private_redis(tmp_path) as url, bot_world(tmp_path, redis_url=url) as w:
        guilds = await growth_guilds(w, GUILDS)
        plan = split(guilds)
        async with anyio.create_task_group() as tg:
            first = BotProcess(w.env(), w.tmp)
            await first.start(tg)
            await play_in_parallel(w, plan)
            assert sorted_equal(await stored_titles(url, guilds), plan)
            async with open_redis(url) as conn:
                await conn.client.flushall()  # our private server: nobody else's data
            assert await stored_titles(url, guilds) == {g.id: [] for g in guilds}
            with anyio.fail_after(10):
                while not sorted_equal(await stored_titles(url, guilds), plan):  # noqa: ASYNC110 - another process writes it
                    await anyio.sleep(0.1)
            status = (await first.get("/status")).json()
            assert status["queue_store"]["resyncs"] >= 1
            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
            await restart_and_check(w, tg, url, plan)
            tg.cancel_scope.cancel()


def sorted_equal(stored: dict[int, list[str]], plan: dict[int, list[str]]) -> bool:
    return {g: sorted(t) for g, t in stored.items()} == {g: sorted(t) for g, t in plan.items()}
