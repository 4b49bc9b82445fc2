"""Migrations under a database lock: N starters migrating one fresh database at once all end at
the head revision with one version row, and a held lock keeps a starter from migrating until it is
released (advisory lock on PostgreSQL, GET_LOCK on MariaDB, a file lock on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from tests.conftest import service_url
from tests.sql_support import private_database

from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.migrate import (
    current_revision,
    head_revision,
    packaged_head,
    upgrade_database,
)
from vectobeat_adapters.sql.migration_lock import migration_lock
from vectobeat_core.errors import StorageUnavailable

pytestmark = [pytest.mark.anyio]

STARTERS = 5


@pytest.fixture(params=["sqlite", "mysql", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    async with private_database(service_url(request.param)) as url:
        yield url


async def version_rows(url: str) -> int:
    async with open_database(url) as db, db.engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT COUNT(*) FROM vb_alembic_version"))).scalar_one()
        )


async def test_concurrent_starters_migrate_once_and_all_reach_head(fresh_url: str) -> None:
    revisions: list[str] = []

    async def start() -> None:
        revisions.append(await upgrade_database(fresh_url))

    async with anyio.create_task_group() as tg:
        for _ in range(STARTERS):
            tg.start_soon(start)
    assert revisions == [head_revision()] * STARTERS
    assert await version_rows(fresh_url) == 1


async def test_a_held_lock_keeps_a_starter_waiting_until_released(fresh_url: str) -> None:
    finished = anyio.Event()

    async def starter() -> None:
        await upgrade_database(fresh_url)
        finished.set()

    async with open_database(fresh_url) as db:
        holder_ready = anyio.Event()
        release = anyio.Event()

        async def hold(conn: AsyncConnection) -> None:
            async with migration_lock(db, conn):
                holder_ready.set()
                await release.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: db.run(hold, bounded=False))
            await holder_ready.wait()
            tg.start_soon(starter)
            await anyio.sleep(1.0)  # room for a starter that ignored the lock to finish
            assert not finished.is_set()
            assert await current_revision(fresh_url) is None
            release.set()
    assert finished.is_set()
    assert await current_revision(fresh_url) == head_revision()


async def test_a_lock_held_too_long_is_a_clear_error(fresh_url: str) -> None:
    async with open_database(fresh_url) as holder_db, open_database(fresh_url) as waiter_db:
        holder_ready, release = anyio.Event(), anyio.Event()

        async def hold(conn: AsyncConnection) -> None:
            async with migration_lock(holder_db, conn):
                holder_ready.set()
                await release.wait()

        async def wait_briefly(conn: AsyncConnection) -> None:
            async with migration_lock(waiter_db, conn, wait=0.3):
                raise AssertionError("the lock was granted twice")

        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: holder_db.run(hold, bounded=False))
            await holder_ready.wait()
            with pytest.raises(StorageUnavailable, match="another process has been migrating"):
                await waiter_db.run(wait_briefly, bounded=False)
            release.set()


def test_the_packaged_head_is_alembics_head() -> None:
    assert packaged_head() == head_revision()


async def test_a_database_at_head_is_not_migrated_again(fresh_url: str) -> None:
    await upgrade_database(fresh_url)
    assert await upgrade_database(fresh_url) == head_revision()
    assert await version_rows(fresh_url) == 1
