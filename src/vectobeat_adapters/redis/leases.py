"""``RedisLeaseStore``: shard leases with fencing epochs, each operation one atomic Lua script.

A lease is a hash ``vb:lease:<shard>`` (owner, epoch, hb = heartbeat time, region); a separate
counter ``vb:lease-epoch:<shard>`` remembers the highest epoch ever granted, so epochs only grow,
even across a release. Claim succeeds only when the lease is absent or stale; renew and release
only when the stored owner and epoch are still the caller's, so a fenced holder can do neither.
"""

from __future__ import annotations

from typing import Any, cast

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_core.errors import InvalidInput, StaleVersion, StorageUnavailable
from vectobeat_core.ids import ShardId
from vectobeat_core.regions import Region
from vectobeat_core.shards import Lease, check_stale_after

__all__ = ["RedisLeaseStore"]

_CLAIM = """
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'hb')
if cur[1] and tonumber(ARGV[3]) - tonumber(cur[3]) < tonumber(ARGV[4]) then
  return 0
end
local epoch = redis.call('INCR', KEYS[2])
if cur[2] and tonumber(cur[2]) >= epoch then
  epoch = tonumber(cur[2]) + 1
  redis.call('SET', KEYS[2], epoch)
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', epoch, 'hb', ARGV[3], 'region', ARGV[2])
return epoch
"""

_RENEW = """
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'hb')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then
  return {0, cur[2] or '0', ''}
end
local hb = cur[3]
if tonumber(ARGV[3]) > tonumber(hb) then
  hb = ARGV[3]
  redis.call('HSET', KEYS[1], 'hb', hb)
end
return {1, cur[2], hb}
"""

_RELEASE = """
local cur = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def _num(value: float) -> str:
    return repr(float(value))


class RedisLeaseStore:
    """Shard leases in Redis (see the module docstring)."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys) -> None:
        self._conn = conn
        self._keys = keys
        self._claim = conn.client.register_script(_CLAIM)
        self._renew = conn.client.register_script(_RENEW)
        self._release = conn.client.register_script(_RELEASE)

    async def claim(
        self, shard: ShardId, owner: str, region: Region, now: float, stale_after: float
    ) -> Lease | None:
        """Take the shard if free or stale; ``None`` while someone holds it fresh."""
        check_stale_after(stale_after)
        lease = Lease(shard, owner, 1, now, Region(region))  # validates the inputs first
        keys = [self._keys.lease(shard), self._keys.lease_epoch(shard)]
        args = [owner, lease.region.value, _num(now), _num(stale_after)]
        # Not idempotent: a lost reply after a successful claim must not claim a second time.
        epoch = int(
            await self._conn.run(
                f"claiming shard {shard}",
                lambda _: self._claim(keys=keys, args=args),
                idempotent=False,
            )
        )
        return None if epoch == 0 else Lease(shard, owner, epoch, float(now), lease.region)

    async def renew(self, lease: Lease, now: float) -> Lease:
        """Heartbeat; ``StaleVersion`` when fenced (someone else holds a newer epoch, or none)."""
        keys = [self._keys.lease(lease.shard_id)]
        args = [lease.owner, str(lease.epoch), _num(now)]
        ok, epoch, heartbeat = await self._conn.run(
            f"renewing the lease of shard {lease.shard_id}",
            lambda _: self._renew(keys=keys, args=args),
        )
        if not int(ok):
            raise StaleVersion(
                f"shard {lease.shard_id} lease", expected=lease.epoch, current=int(epoch)
            )
        return Lease(lease.shard_id, lease.owner, lease.epoch, float(heartbeat), lease.region)

    async def release(self, lease: Lease) -> bool:
        """Free the shard if ``lease`` still holds it (idempotent: a second call returns False)."""
        keys = [self._keys.lease(lease.shard_id)]
        args = [lease.owner, str(lease.epoch)]
        result = await self._conn.run(
            f"releasing the lease of shard {lease.shard_id}",
            lambda _: self._release(keys=keys, args=args),
        )
        return bool(int(result))

    async def get(self, shard: ShardId) -> Lease | None:

        async def op(c: Client) -> dict[bytes, bytes]:
            return cast("dict[bytes, bytes]", await c.hgetall(self._keys.lease(shard)))

        raw = await self._conn.run(f"reading the lease of shard {shard}", op)
        return self._parse(shard, raw)

    async def all(self) -> list[Lease]:
        """Every held lease, by shard id."""
        prefix = self._keys.lease(0)[:-1]

        async def op(c: Client) -> list[tuple[ShardId, Any]]:
            shards: list[ShardId] = []
            async for key in c.scan_iter(match=self._keys.lease_pattern(), count=500):
                tail = key.decode()[len(prefix) :]
                if tail.isdigit():
                    shards.append(ShardId(int(tail)))
            async with c.pipeline(transaction=False) as pipe:
                for shard in shards:
                    pipe.hgetall(self._keys.lease(shard))
                return list(zip(shards, await pipe.execute(), strict=True))

        found = await self._conn.run("listing shard leases", op)
        leases = [self._parse(shard, raw) for shard, raw in found]
        return sorted((lease for lease in leases if lease is not None), key=lambda x: x.shard_id)

    async def ping(self) -> None:
        await self._conn.ping()

    def _parse(self, shard: ShardId, raw: dict[bytes, bytes]) -> Lease | None:
        if not raw:
            return None
        try:
            return Lease(
                shard,
                raw[b"owner"].decode(),
                int(raw[b"epoch"]),
                float(raw[b"hb"]),
                Region(raw[b"region"].decode()),
            )
        except (KeyError, ValueError, InvalidInput) as exc:
            raise StorageUnavailable(
                f"Redis at {self._conn.where}: the lease at {self._keys.lease(shard)} is "
                f"malformed ({exc})."
            ) from None
