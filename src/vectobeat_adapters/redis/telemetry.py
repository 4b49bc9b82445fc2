"""``RedisTelemetryCache``: short-lived JSON documents by name (``vb:tm:<name>``) with a TTL."""

from __future__ import annotations

import json
from typing import cast

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.telemetry_names import guild_documents
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON

__all__ = ["RedisTelemetryCache"]


class RedisTelemetryCache:
    """A TTL cache of JSON documents in Redis."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys) -> None:
        self._conn = conn
        self._keys = keys

    async def put(self, name: str, document: JSON, ttl: float) -> None:
        """Store ``document`` under ``name`` for ``ttl`` seconds (must be > 0)."""
        if not ttl > 0:
            raise InvalidInput(f"telemetry TTL must be a positive number of seconds, got {ttl!r}")
        key = self._keys.telemetry(name)
        try:
            body = json.dumps(document, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"telemetry document {name!r} is not JSON ({exc}).") from None
        ttl_ms = max(1, round(ttl * 1000))
        await self._conn.run(f"caching telemetry {name!r}", lambda c: c.set(key, body, px=ttl_ms))

    async def get(self, name: str) -> JSON | None:
        """The document, or ``None`` when absent or expired."""
        key = self._keys.telemetry(name)

        async def op(c: Client) -> bytes | None:
            return cast("bytes | None", await c.get(key))

        raw = await self._conn.run(f"reading telemetry {name!r}", op)
        if raw is None:
            return None
        try:
            return cast("JSON", json.loads(raw))
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(f"Redis key {key} does not hold a JSON document.") from None

    async def ping(self) -> None:
        await self._conn.ping()

    async def erase_guild(self, guild: GuildId) -> int:
        keys = [self._keys.telemetry(name) for name in guild_documents(guild)]

        async def op(c: Client) -> int:
            return int(await c.delete(*keys))

        return await self._conn.run(f"erasing the telemetry of guild {guild}", op)
