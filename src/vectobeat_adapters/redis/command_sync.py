"""``RedisCommandSync``: the slash-command tree's last synced digest and the sync lock in Redis.

Every bot process shares it: the lock (``SET NX PX``, released by its owner only, through one Lua
script) lets one process at a time compare and sync; the digest says whether the tree changed.
"""

from __future__ import annotations

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys

__all__ = ["RedisCommandSync"]

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCommandSync:
    """The ``CommandSyncRecord`` of a deployment in Redis."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys) -> None:
        self._conn = conn
        self._digest = keys.command_digest()
        self._lock = keys.command_sync_lock()
        self._unlock = conn.client.register_script(_UNLOCK)

    async def try_lock(self, owner: str, ttl: float) -> bool:
        async def op(c: Client) -> bool:
            return bool(await c.set(self._lock, owner, nx=True, px=max(1, int(ttl * 1000))))

        return await self._conn.run("taking the command sync lock", op, idempotent=False)

    async def unlock(self, owner: str) -> None:
        await self._conn.run(
            "releasing the command sync lock",
            lambda _: self._unlock(keys=[self._lock], args=[owner]),
        )

    async def synced_digest(self) -> str | None:
        async def op(c: Client) -> bytes | str | None:
            return await c.get(self._digest)

        raw = await self._conn.run("reading the synced command digest", op)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def record(self, digest: str) -> None:
        async def op(c: Client) -> None:
            await c.set(self._digest, digest)

        await self._conn.run("storing the synced command digest", op)
