"""Test helpers for real SQL servers: create and drop a database of our own (MariaDB, PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["create_database", "drop_database"]


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
