"""Test helpers for real SQL servers: create and drop a database of our own (MariaDB, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["create_database", "drop_database", "private_database"]


async def _admin(server: URL, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(server: URL, name: str) -> None:
    """An empty database ``name`` on ``server`` (utf8mb4 on MariaDB/MySQL)."""
    charset = " CHARACTER SET utf8mb4" if server.get_backend_name() == "mysql" else ""
    await _admin(server, f"CREATE DATABASE {name}{charset}")


async def drop_database(server: URL, name: str) -> None:
    """Drop ``name`` on ``server`` if it exists (PostgreSQL: even with sessions still open)."""
    force = " WITH (FORCE)" if server.get_backend_name() == "postgresql" else ""
    await _admin(server, f"DROP DATABASE IF EXISTS {name}{force}")


@asynccontextmanager
async def private_database(url: str) -> AsyncIterator[str]:
    """A fresh database of our own on the server of ``url`` for the block, dropped after: tests
    never migrate the shared one (another checkout's migrations may be ahead of or behind ours)."""
    server = make_url(url)
    name = f"vb_{uuid.uuid4().hex[:12]}"
    await create_database(server, name)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await drop_database(server, name)
