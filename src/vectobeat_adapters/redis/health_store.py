"""``RedisHealthStore``: one JSON record per Lavalink node at ``lavalink:health:<node>``, with a TTL.

A record expires when the checker stops refreshing it, so a dead checker does not leave nodes looking
healthy forever. ``all()`` scans the key pattern and fetches the records with one MGET per batch.
"""

from __future__ import annotations

import json
from typing import cast

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeHealth
from vectobeat_core.ids import NodeName

__all__ = ["RedisHealthStore"]


class RedisHealthStore:
    """Node health records in Redis."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys) -> None:
        self._conn = conn
        self._keys = keys

    async def put(self, health: NodeHealth, ttl: float) -> None:
        """Store ``health`` for ``ttl`` seconds (the checker refreshes it every probe)."""
        key = self._keys.health(health.node)
        body = json.dumps(health.to_json(), separators=(",", ":"))
        ttl_ms = max(1, round(ttl * 1000))
        await self._conn.run(
            f"storing the health of node {health.node}", lambda c: c.set(key, body, px=ttl_ms)
        )

    async def get(self, node: NodeName) -> NodeHealth | None:
        key = self._keys.health(node)

        async def op(c: Client) -> bytes | None:
            return cast("bytes | None", await c.get(key))

        raw = await self._conn.run(f"reading the health of node {node}", op)
        return None if raw is None else _parse(key, raw)

    async def all(self) -> list[NodeHealth]:
        """Every live record, by node name; a malformed one raises ``InvalidInput`` naming its key."""

        async def op(c: Client) -> list[tuple[str, bytes | None]]:
            keys = [
                key.decode()
                async for key in c.scan_iter(match=self._keys.health_pattern(), count=500)
            ]
            found: list[tuple[str, bytes | None]] = []
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                values = cast("list[bytes | None]", await c.mget(chunk))
                found += zip(chunk, values, strict=True)
            return found

        found = await self._conn.run("listing node health", op)
        records = [_parse(key, raw) for key, raw in found if raw is not None]
        return sorted(records, key=lambda record: record.node)

    async def ping(self) -> None:
        await self._conn.ping()


def _parse(key: str, raw: bytes) -> NodeHealth:
    try:
        return NodeHealth.from_json(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"Redis key {key} does not hold a JSON node health record.") from None
    except InvalidInput as exc:
        raise InvalidInput(f"Redis key {key}: {exc.message}") from None
