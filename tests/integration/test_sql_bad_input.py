"""SQL adapters under bad conditions: refused connections, lost connections, corrupted data,
unmigrated databases, repeated migrations. Every failure is a clear VectoBeat error."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from tests.conftest import service_url
from tests.contract.conftest import ScratchDatabase

from vectobeat_adapters.crypto import CiphertextError, Keyring
from vectobeat_adapters.sql.contacts import SqlContactStore
from vectobeat_adapters.sql.engine import Database, open_database
from vectobeat_adapters.sql.migrate import (
    VERSION_TABLE,
    current_revision,
    head_revision,
    upgrade,
    upgrade_database,
)
from vectobeat_adapters.sql.schema import contacts, metadata, settings_current
from vectobeat_adapters.sql.settings import SqlSettingsRepository
from vectobeat_core.errors import ConfigError, InvalidInput, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.records import Contact
from vectobeat_core.settings import ServerSettings, SettingsRecord

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
NOW = 1_700_000_000.0
PASSWORD = "hunter2-do-not-leak"


def refusing_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("scheme", "label"),
    [("mysql+aiomysql", "MySQL/MariaDB"), ("postgresql+asyncpg", "PostgreSQL")],
)
async def test_refused_connection_names_backend_and_host_not_password(
    scheme: str, label: str
) -> None:
    port = refusing_port()
    url = f"{scheme}://vb:{PASSWORD}@127.0.0.1:{port}/vectobeat"
    async with open_database(url) as db:
        db.retries = 1
        db.backoff = 0.001
        with pytest.raises(StorageUnavailable) as caught:
            await SqlSettingsRepository(db).get(GUILD)
    message = str(caught.value)
    assert f"{label} at 127.0.0.1:{port}/vectobeat is unavailable" in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value)


async def test_sqlite_in_a_missing_directory_is_unavailable(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/vb.db"
    with pytest.raises(StorageUnavailable, match=r"SQLite at .*missing/dir/vb.db.*does not exist"):
        async with open_database(url):
            pass


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid database URL"),
        ("oracle://u@h/db", "supports sqlite, mysql/mariadb and postgresql"),
        ("postgresql+psycopg://u@h/db", "use postgresql\\+asyncpg"),
    ],
)
async def test_unsupported_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        async with open_database(url):
            pass


@pytest.fixture
def sqlite_url(tmp_path: object) -> URL:
    return make_url(f"sqlite+aiosqlite:///{tmp_path}/vb.db")


@pytest.fixture
async def migrated(sqlite_url: URL) -> AsyncIterator[Database]:
    await upgrade_database(sqlite_url)
    async with open_database(sqlite_url) as db:
        yield db


async def test_unmigrated_database_says_to_run_the_migrations(sqlite_url: URL) -> None:
    async with open_database(sqlite_url) as db:
        with pytest.raises(StorageUnavailable, match=r"not migrated.*db upgrade"):
            await SqlSettingsRepository(db).get(GUILD)


async def test_disconnects_are_retried_only_when_idempotent(migrated: Database) -> None:
    migrated.backoff = 0.001
    calls = 0

    async def flaky(conn: AsyncConnection) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise exc.OperationalError("SELECT 1", {}, ConnectionResetError("connection reset"))
        return calls

    assert await migrated.run(flaky, idempotent=True) == 2
    calls = 0
    with pytest.raises(StorageUnavailable, match="unavailable: connection reset"):
        await migrated.run(flaky)
    assert calls == 1


async def test_corrupted_ciphertext_is_reported_and_nothing_is_damaged(migrated: Database) -> None:
    store = SqlContactStore(migrated, Keyring.from_config(Keyring.generate_key()))
    await store.put(Contact(GUILD, "Ada", "ada@example.org", None, NOW))
    other = GuildId(GUILD + 1)
    await store.put(Contact(other, "Bob", "bob@example.org", None, NOW))
    async with migrated.engine.begin() as conn:
        token = (
            await conn.execute(sa.select(contacts.c.email_enc).where(contacts.c.guild_id == GUILD))
        ).scalar_one()
        broken = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
        await conn.execute(
            contacts.update().where(contacts.c.guild_id == GUILD).values(email_enc=broken)
        )

    with pytest.raises(CiphertextError, match=f"contacts.email:{GUILD}"):
        await store.get(GUILD, "billing")
    async with migrated.engine.connect() as conn:
        still = (
            await conn.execute(sa.select(contacts.c.email_enc).where(contacts.c.guild_id == GUILD))
        ).scalar_one()
    assert still == broken
    bob = await store.get(other, "billing")
    assert bob is not None and bob.email == "bob@example.org"


async def test_corrupted_settings_document_names_guild_and_version(migrated: Database) -> None:
    repo = SqlSettingsRepository(migrated)
    await repo.put(SettingsRecord(GUILD, 1, ServerSettings(), NOW, "admin"), 0)
    async with migrated.engine.begin() as conn:
        await conn.execute(settings_current.update().values(document="{not json"))
    with pytest.raises(InvalidInput, match=f"guild {GUILD} \\(version 1\\)"):
        await repo.get(GUILD)
    async with migrated.engine.begin() as conn:
        await conn.execute(settings_current.update().values(document=json.dumps({"guild_id": 1})))
    with pytest.raises(InvalidInput):
        await repo.get(GUILD)


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return list(compare_metadata(context, metadata))


def _urls() -> Iterator[str]:
    yield "sqlite"
    yield "mysql"
    yield "postgres"


@pytest.fixture(params=list(_urls()))
def fresh_url(request: pytest.FixtureRequest, sqlite_url: URL) -> Iterator[URL]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    scratch = ScratchDatabase.create(service_url(request.param))
    try:
        yield scratch.url
    finally:
        scratch.drop()


async def test_migrations_are_idempotent_and_match_the_schema(fresh_url: URL) -> None:
    assert await current_revision(fresh_url) is None
    head = head_revision()
    assert await upgrade_database(fresh_url) == head
    assert await upgrade_database(fresh_url) == head
    assert await current_revision(fresh_url) == head
    async with open_database(fresh_url) as db, db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_lost_postgres_connections_are_replaced_by_pre_ping() -> None:
    scratch = ScratchDatabase.create(service_url("postgres"))
    try:
        await upgrade_database(scratch.url)
        async with open_database(scratch.url) as db:
            repo = SqlSettingsRepository(db)
            assert await repo.get(GUILD) is None
            async with open_database(scratch.server) as admin, admin.engine.begin() as conn:
                await conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": scratch.url.database},
                )
            assert await repo.get(GUILD) is None
    finally:
        scratch.drop()


@pytest.mark.parametrize("service", ["mysql", "postgres"])
async def test_unmigrated_server_database_says_to_run_the_migrations(service: str) -> None:
    scratch = ScratchDatabase.create(service_url(service))
    try:
        async with open_database(scratch.url) as db:
            with pytest.raises(StorageUnavailable, match=r"not migrated.*db upgrade"):
                await SqlSettingsRepository(db).get(GUILD)
    finally:
        scratch.drop()


async def test_missing_server_database_is_unavailable_not_unmigrated() -> None:
    server = make_url(service_url("postgres"))
    async with open_database(server.set(database="vb_missing_db")) as db:
        db.retries = 0
        with pytest.raises(StorageUnavailable) as caught:
            await db.ping()
    assert "vb_missing_db" in str(caught.value) and "not migrated" not in str(caught.value)


class _PgError(Exception):
    """Shaped like asyncpg's errors as SQLAlchemy adapts them (a ``sqlstate``)."""

    sqlstate = "40P01"


class MySQLError(Exception):
    """Shaped like PyMySQL's errors: ``args == (errno, message)``."""


@pytest.mark.parametrize(
    "orig",
    [
        MySQLError(1213, "Deadlock found"),
        _PgError("deadlock detected"),
        sqlite3.OperationalError("database is locked"),
    ],
)
async def test_deadlocks_are_retried_even_when_not_idempotent(
    migrated: Database, orig: Exception
) -> None:
    migrated.backoff = 0.001
    calls = 0

    async def contended(conn: AsyncConnection) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise exc.OperationalError("UPDATE ...", {}, orig)
        return calls

    assert await migrated.run(contended) == 3


async def test_in_memory_sqlite_serves_concurrent_writers_on_one_connection() -> None:
    async with open_database("sqlite+aiosqlite://") as db:
        await upgrade(db)
        repo = SqlSettingsRepository(db)

        async def write(n: int) -> None:
            guild = GuildId(GUILD + n)
            await repo.put(SettingsRecord(guild, 1, ServerSettings(), NOW, f"w{n}"), 0)

        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(write, n)
        for n in range(20):
            stored = await repo.get(GuildId(GUILD + n))
            assert stored is not None and stored.updated_by == f"w{n}"
