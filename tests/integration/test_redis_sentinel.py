"""``REDIS_URL=redis+sentinel://...``: a real sentinel watching a private primary and its replica.

The primary is SIGKILLed; the sentinel promotes the replica; the same connection (no restart)
answers again from the promoted replica, with the queue written before the crash, and takes new
writes; its queue store generation changes, as after a restart, so the bot rewrites its guilds.
Until then each call fails like a Redis restart: ``StorageUnavailable`` naming the sentinels and
never the password.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

import anyio
import attrs
import pytest
from tests.conftest import REQUIRE_SERVICES
from tests.contract.test_queue_store_contract import build_queue, snap

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.redis import RedisKeys, RedisSettings, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_core.errors import ConfigError, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_ops.envcheck import check_connections
from vectobeat_testkit.redis_server import private_sentinel_group

pytestmark = pytest.mark.anyio

FAILOVER_WITHIN = 60.0  # a bound for a stuck test, not a measurement


async def _primary_port(service: str, sentinel_port: int) -> int:
    from redis.asyncio import Redis

    sentinel = Redis(host="127.0.0.1", port=sentinel_port)
    try:
        ask = cast(Any, sentinel).execute_command  # redis-py leaves it untyped
        address = await ask("SENTINEL GET-MASTER-ADDR-BY-NAME", service)
        return int(address[1])
    finally:
        await sentinel.aclose()


async def test_a_primary_failover_is_survived_like_a_restart(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is not installed (needed for the sentinel test)")
        pytest.skip("redis-server is not installed")
    async with (
        private_sentinel_group(tmp_path) as group,
        open_redis(group.url, RedisSettings.bounded(2.0)) as conn,
    ):
        assert conn.where == f"sentinel 127.0.0.1:{group.sentinel_port}/vectobeat/0"
        config = AppConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'check.db'}")
        reachable = attrs.evolve(config, redis_url=group.url)
        assert await check_connections(reachable) == [], "validate-env --connect finds the primary"
        store = RedisQueueStore(conn, RedisKeys("sentinel-test:"))
        before = snap(build_queue(7, 5))
        await store.save(before)
        generation = await store.generation()
        assert await conn.run("wait", lambda c: c.wait(1, 2000)) == 1  # on the replica

        group.kill_primary()
        failures: list[str] = []
        with anyio.fail_after(FAILOVER_WITHIN):
            while True:
                try:
                    restored = await store.load(GuildId(7))
                    break
                except StorageUnavailable as exc:
                    failures.append(exc.message)
                    await anyio.sleep(0.2)
        assert restored == before
        assert failures, "the primary's loss was never seen"
        assert all("sentinel 127.0.0.1:" in m for m in failures)
        promoted = await _primary_port(group.service, group.sentinel_port)
        assert promoted == group.replica_port
        # another server: the bot's resync (issue 8) rewrites what the promotion may have lost
        assert await store.generation() != generation

        after = snap(build_queue(7, 9), at=1_700_000_200.0)
        await store.save(after)
        assert await store.load(GuildId(7)) == after


async def test_sentinel_passwords_stay_out_of_messages(tmp_path: Path) -> None:
    url = "redis+sentinel://:s3cret-pw@127.0.0.1:9/vectobeat/0"  # nothing listens on port 9
    with pytest.raises(StorageUnavailable) as caught:
        async with open_redis(url, RedisSettings.bounded(1.0)):
            pass
    assert "s3cret-pw" not in caught.value.message
    assert "sentinel 127.0.0.1:9/vectobeat/0" in caught.value.message
    config = AppConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'check.db'}", redis_url=url)
    (problem,) = await check_connections(config)
    assert problem.variable == "REDIS_URL" and "s3cret-pw" not in problem.message


async def test_a_bad_sentinel_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="names no primary service"):
        async with open_redis("redis+sentinel://127.0.0.1:26379"):
            pass
