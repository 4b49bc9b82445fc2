"""Helpers of the health fault tests: a Redis URL through a fault proxy, polling the bot's Status
API, and waiting until a guild's queue reached Redis."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio

from tests.e2e.conftest import BotProcess, E2EGuild
from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_core.ids import GuildId
from vectobeat_testkit.faultproxy import FaultProxy

__all__ = ["poll", "proxied", "wait_snapshot"]


def proxied(url: str, proxy: FaultProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(url).path or '/0'}"


async def poll(bot: BotProcess, path: str, check: Any, timeout: float = 30.0) -> Any:  # noqa: ASYNC109
    """GET ``path`` until ``check(response)`` holds (another process: it can only be polled)."""
    with anyio.fail_after(timeout):
        while True:
            response = await bot.get(path)
            if check(response):
                return response
            await anyio.sleep(0.1)


async def wait_snapshot(url: str, guild: E2EGuild) -> None:
    """Until the durable store holds the guild's queue: a current track and one more."""
    async with open_redis(url) as conn:
        store = RedisQueueStore(conn, RedisKeys())
        with anyio.fail_after(10):
            while True:
                snap = await store.load(GuildId(guild.id))
                if snap is not None and snap.current is not None and len(snap.entries) >= 1:
                    return
                await anyio.sleep(0.05)
