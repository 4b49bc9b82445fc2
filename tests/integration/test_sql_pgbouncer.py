"""``DATABASE_URL`` through PgBouncer in transaction pooling mode (``?pgbouncer=true``) and with
several PostgreSQL hosts: what docs/operations.md promises works against real servers.

PgBouncer runs with fewer server connections than our pool has client connections, so each
transaction may land on another server connection: the case that breaks asyncpg's named, cached
prepared statements.
"""

from __future__ import annotations

import shutil

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from tests.conftest import REQUIRE_SERVICES, service_url
from tests.contract.test_queue_store_contract import build_queue, snap
from tests.sql_support import private_database

from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.sql.engine import backend_label, normalize_url, open_database
from vectobeat_adapters.sql.migrate import upgrade
from vectobeat_adapters.sql.queue_store import SqlQueueStore
from vectobeat_core.errors import ConfigError, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_testkit.pgbouncer import private_pgbouncer

pytestmark = pytest.mark.anyio

GUILDS = 24


def _need_pgbouncer() -> None:
    if shutil.which("pgbouncer") is None:
        if REQUIRE_SERVICES:
            pytest.fail("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed")


def _through(url: str, port: int, **query: str) -> str:
    direct = make_url(url)
    pooled = direct.set(host="127.0.0.1", port=port).update_query_dict(query)
    return pooled.render_as_string(hide_password=False)


async def _save_and_load_concurrently(url: str) -> None:
    async with open_database(url, operation_timeout=10.0) as db:
        await upgrade(db)  # the migrations go through the pooler too
        store = SqlQueueStore(db, SystemClock())
        snapshots = {g: snap(build_queue(g, 3 + g % 5)) for g in range(1, GUILDS + 1)}
        async with anyio.create_task_group() as tasks:
            for snapshot in snapshots.values():
                tasks.start_soon(store.save, snapshot)
        loaded = {}

        async def load(guild: int) -> None:
            loaded[guild] = await store.load(GuildId(guild))

        async with anyio.create_task_group() as tasks:
            for guild in snapshots:
                tasks.start_soon(load, guild)
        assert loaded == snapshots


async def test_transaction_pooling_works_with_the_pgbouncer_option() -> None:
    _need_pgbouncer()
    async with (
        private_database(service_url("postgres")) as url,
        private_pgbouncer(
            make_url(url).port or 5432, user=make_url(url).username or "root"
        ) as port,
    ):
        await _save_and_load_concurrently(_through(url, port, pgbouncer="true"))


async def _many_short_transactions(url: str) -> None:
    async with open_database(url) as db:  # no timeout: no startup parameters either

        async def work(n: int) -> None:
            for _ in range(20):
                async with db.engine.begin() as conn:
                    await conn.execute(text("SELECT :n + 1"), {"n": n})
                    await anyio.sleep(0.001)

        async with anyio.create_task_group() as tasks:
            for n in range(12):
                tasks.start_soon(work, n)


async def test_without_the_option_pgbouncer_breaks_statements_and_startup() -> None:
    """Why the option exists: without it a cached statement lands on a server connection that
    never prepared it, and PgBouncer refuses the statement_timeout startup parameter."""
    _need_pgbouncer()
    async with (
        private_database(service_url("postgres")) as url,
        private_pgbouncer(
            make_url(url).port or 5432, user=make_url(url).username or "root"
        ) as port,
    ):
        with pytest.raises(ExceptionGroup) as caught:
            await _many_short_transactions(_through(url, port))
        assert "prepared statement" in str(caught.value.exceptions[0])
        with pytest.raises(StorageUnavailable, match="unsupported startup parameter"):
            await _save_and_load_concurrently(_through(url, port))
        await _many_short_transactions(_through(url, port, pgbouncer="true"))


async def test_several_hosts_use_the_first_that_answers() -> None:
    async with private_database(service_url("postgres")) as url:
        real = make_url(url)
        hosts = f"127.0.0.1:9,{real.host}:{real.port or 5432}"  # nothing listens on port 9
        several = URL.create(
            real.drivername,
            username=real.username,
            password=real.password,
            database=real.database,
            query={"host": tuple(hosts.split(",")), "target_session_attrs": "read-write"},
        )
        rendered = several.render_as_string(hide_password=False)
        assert backend_label(normalize_url(rendered)).startswith(f"PostgreSQL at {hosts}/")
        async with open_database(rendered, operation_timeout=10.0) as db:
            async with db.engine.connect() as conn:
                port = (await conn.execute(text("SELECT inet_server_port()"))).scalar()
            assert port == (real.port or 5432)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+asyncpg://u@db/app?pgbouncer=maybe", "is not true or false"),
        ("mysql+aiomysql://u@db/app?pgbouncer=true", "is for PostgreSQL"),
    ],
)
def test_a_bad_pgbouncer_option_is_a_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        normalize_url(url)
