"""Schema migrations applied by code (Alembic, programmatically; no alembic.ini at runtime).

``await upgrade_database(url)`` brings any of the three backends to the newest revision and returns
it; running it again is a no-op, and concurrent starters take turns
(``vectobeat_adapters.sql.migration_lock``). ``await current_revision(url)`` says where a database stands
(``None``: never migrated). The ops CLI's ``vectobeat-ops db upgrade`` calls the former.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from vectobeat_adapters.sql.engine import Database, open_database, sqlite_file
from vectobeat_adapters.sql.migration_lock import migration_lock

__all__ = [
    "SCRIPT_LOCATION",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
    "upgrade_database",
]

SCRIPT_LOCATION = "vectobeat_adapters.sql:migrations"
VERSION_TABLE = "vb_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the packaged scripts know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration scripts found")
    return head


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def upgrade(db: Database) -> str:
    """Migrate an open database to the head revision (without the request timeout) under the
    migration lock (several starters: one migrates, the others find it done); returns it."""

    async def work(conn: AsyncConnection) -> str:
        await db.set_statement_limit(conn, lifted=True)
        async with migration_lock(db, conn):
            await conn.run_sync(_upgrade)
            revision = await conn.run_sync(_current)
        await db.set_statement_limit(conn, lifted=False)
        return revision or ""

    return await db.run(work, idempotent=True, bounded=False)


async def upgrade_database(url: str | URL) -> str:
    """Open ``url``, migrate it to the head revision and return that revision."""
    async with open_database(url) as db:
        return await upgrade(db)


async def current_revision(url: str | URL) -> str | None:
    """The revision ``url`` is at, or ``None`` when it was never migrated (a SQLite file that
    does not exist is not created: reading a revision must change nothing)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    async with open_database(url) as db:

        async def work(conn: AsyncConnection) -> str | None:
            return await conn.run_sync(_current)

        return await db.run(work, idempotent=True)
