"""Schema migrations applied by code (Alembic, programmatically; no alembic.ini at runtime).

``await upgrade_database(url)`` brings any of the three backends to the newest revision and returns
it; running it again is a no-op, and concurrent starters take turns
(``vectobeat_adapters.sql.migration_lock``). ``await current_revision(url)`` says where a database stands
(``None``: never migrated). The ops CLI's ``vectobeat-ops db upgrade`` calls the former.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, open_database, sqlite_file
from vectobeat_adapters.sql.migration_lock import migration_lock

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "SCRIPT_LOCATION",
    "alembic_config",
    "current_revision",
    "head_revision",
    "packaged_head",
    "upgrade",
    "upgrade_database",
]

SCRIPT_LOCATION = "vectobeat_adapters.sql:migrations"
VERSION_TABLE = "vb_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migration scripts."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic loads only to migrate

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the packaged scripts know."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - Alembic loads only to migrate

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration scripts found")
    return head


_REVISION = re.compile(r'^(down_revision|revision) = (?:"([^"]+)"|None)$', re.MULTILINE)


@cache
def packaged_head() -> str:
    """The head revision read from the packaged scripts' ``revision``/``down_revision`` lines,
    without loading Alembic (a test checks it against Alembic's own answer)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("vectobeat_adapters.sql.migrations").joinpath("versions")
    for script in versions.iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        for field, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if field == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:  # pragma: no cover - the package ships one linear chain
        raise RuntimeError(f"the migration scripts have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _upgrade(connection: Connection) -> None:
    from alembic import command  # noqa: PLC0415 - Alembic loads only to migrate

    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608 - a constant
    return str(rows[0]) if len(rows) == 1 else None


async def upgrade(db: Database) -> str:
    """Migrate an open database to the head revision (without the request timeout) under the
    migration lock (several starters: one migrates, the others find it done); returns it."""

    async def work(conn: AsyncConnection) -> str:
        await db.set_statement_limit(conn, lifted=True)
        async with migration_lock(db, conn):
            revision = await conn.run_sync(_current)
            if revision != packaged_head():  # at head: nothing to do, Alembic stays unloaded
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
