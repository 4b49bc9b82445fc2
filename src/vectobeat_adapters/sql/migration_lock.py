"""One migrator at a time: ``migration_lock`` holds a database-wide lock around a migration.

Several processes (bot shards, panel replicas) may start together and each applies the Alembic
migrations; the lock makes the others wait and then find the schema at head (a no-op). PostgreSQL
uses a transaction-scoped advisory lock (released at commit, per database), MariaDB/MySQL
``GET_LOCK`` on a name that includes the database (released explicitly; the name is server-wide),
SQLite an exclusive ``flock`` on ``<file>.migrate.lock`` next to the database (in-memory databases
belong to one process and need none). Waiting longer than ``wait`` seconds raises
``StorageUnavailable`` saying another process holds the lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from sqlalchemy import text

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, sqlite_file
from vectobeat_core.errors import StorageUnavailable

__all__ = ["LOCK_NAME", "LOCK_WAIT_SECONDS", "advisory_key", "migration_lock"]

LOCK_NAME = "vectobeat_migrations"
LOCK_WAIT_SECONDS = 300.0
"""How long a starter waits for another process's migration before giving up."""
_FILE_POLL_SECONDS = 0.05


def advisory_key(name: str = LOCK_NAME) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _busy(db: Database, wait: float) -> StorageUnavailable:
    return StorageUnavailable(
        f"{db.label}: another process has been migrating the schema for over {wait:g} s "
        "(the migration lock is held); try again once it finished"
    )


@asynccontextmanager
async def migration_lock(
    db: Database, conn: AsyncConnection, *, wait: float = LOCK_WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold the migration lock of ``db`` for the block; ``conn`` is the migrating connection."""
    if db.dialect == "postgresql":
        async with _postgres_lock(db, conn, wait):
            yield
    elif db.dialect == "mysql":
        async with _mysql_lock(db, conn, wait):
            yield
    else:
        async with _file_lock(db, wait):
            yield


@asynccontextmanager
async def _postgres_lock(db: Database, conn: AsyncConnection, wait: float) -> AsyncIterator[None]:
    await conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'"))
    try:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key()})
    except Exception as exc:
        if "lock timeout" in str(exc).lower():
            raise _busy(db, wait) from exc
        raise
    await conn.execute(text("SET LOCAL lock_timeout = 0"))
    yield  # released when the migrating transaction ends


@asynccontextmanager
async def _mysql_lock(db: Database, conn: AsyncConnection, wait: float) -> AsyncIterator[None]:
    database = (await conn.execute(text("SELECT DATABASE()"))).scalar()
    name = f"{LOCK_NAME}:{database}"[:64]  # GET_LOCK names are server-wide, 64 characters at most
    got = (await conn.execute(text("SELECT GET_LOCK(:n, :w)"), {"n": name, "w": wait})).scalar()
    if got != 1:
        raise _busy(db, wait)
    try:
        yield
    finally:
        await conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})


@asynccontextmanager
async def _file_lock(db: Database, wait: float) -> AsyncIterator[None]:
    path = sqlite_file(db.url)
    if path is None:
        yield
        return
    fd = os.open(Path(f"{path}.migrate.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with anyio.move_on_after(wait) as waited:
            while not _try_flock(fd):  # noqa: ASYNC110 - the lock is another process's
                await anyio.sleep(_FILE_POLL_SECONDS)
        if waited.cancelled_caught:
            raise _busy(db, wait)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
