"""``open_services(degraded=True)`` with PostgreSQL and Redis behind cut fault proxies: it opens, each
store is down and refuses calls at once, and after the heal both connect, and SQL is migrated."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import service_url
from tests.sql_support import create_database, drop_database
from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import open_services
from vectobeat_core.dependencies import DependencyState
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_open_services_degraded_while_sql_and_redis_are_cut(tmp_path: Path) -> None:
    server = make_url(service_url("postgres"))
    redis_url = service_url("redis")
    name = f"vb_health_{uuid.uuid4().hex[:10]}"
    await create_database(server, name)
    try:
        async with (
            FaultProxy(server.port or 5432) as sql_proxy,
            FaultProxy(urlsplit(redis_url).port or 6379) as redis_proxy,
        ):
            sql_proxy.cut()
            redis_proxy.cut()
            db_url = server.set(host="127.0.0.1", port=sql_proxy.port, database=name)
            config = load_config(
                {},
                dotenv=tmp_path / "none.env",
                overrides={
                    "DATABASE_URL": db_url.render_as_string(hide_password=False),
                    "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/0",
                },
            )
            async with open_services(config, degraded=True) as services:
                sql, redis = services.watches["sql"], services.watches["redis"]
                assert (sql.status.required, redis.status.required) == (False, True)
                async with anyio.create_task_group() as tg:
                    await tg.start(sql.run)
                    await tg.start(redis.run)
                    assert sql.status.state is DependencyState.DOWN
                    assert redis.status.state is DependencyState.DOWN
                    # refused by each gate (its own message), without trying a dead socket
                    with pytest.raises(StorageUnavailable, match=r"^sql is unavailable \("):
                        await services.settings.get(GuildId(1))
                    with pytest.raises(StorageUnavailable, match=r"^redis is unavailable \("):
                        await services.queues.load(GuildId(1))
                    sql_proxy.heal()
                    redis_proxy.heal()
                    with anyio.fail_after(20):
                        await sql.wait_until(DependencyState.UP)
                        await redis.wait_until(DependencyState.UP)
                    assert await services.settings.get(GuildId(1)) is None  # migrated on connect
                    assert await services.queues.load(GuildId(1)) is None
                    report = await services.ping_all()
                    assert set(report.values()) == {"ok"}
                    tg.cancel_scope.cancel()
    finally:
        await drop_database(server, name)
