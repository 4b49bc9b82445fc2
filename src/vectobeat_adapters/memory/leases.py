"""``MemoryLeaseStore``: shard leases with fencing epochs in process memory.

Same rules as ``RedisLeaseStore``: claim only a free or stale lease, with an epoch above every epoch
ever granted for the shard; renew and release only with the stored owner and epoch. Each operation
runs without awaiting, so it is atomic among the tasks of one event loop.
"""

from __future__ import annotations

from vectobeat_core.errors import StaleVersion
from vectobeat_core.ids import ShardId
from vectobeat_core.regions import Region
from vectobeat_core.shards import Lease, check_stale_after, is_stale

__all__ = ["MemoryLeaseStore"]


class MemoryLeaseStore:
    """Shard leases for one process (a hot spare needs Redis)."""

    def __init__(self) -> None:
        self._leases: dict[ShardId, Lease] = {}
        self._epochs: dict[ShardId, int] = {}

    async def claim(
        self, shard: ShardId, owner: str, region: Region, now: float, stale_after: float
    ) -> Lease | None:
        check_stale_after(stale_after)
        candidate = Lease(shard, owner, 1, now, Region(region))  # validates the inputs first
        current = self._leases.get(shard)
        if current is not None and not is_stale(current, now, stale_after):
            return None
        epoch = max(self._epochs.get(shard, 0), 0 if current is None else current.epoch) + 1
        lease = Lease(shard, owner, epoch, float(now), candidate.region)
        self._epochs[shard] = epoch
        self._leases[shard] = lease
        return lease

    async def renew(self, lease: Lease, now: float) -> Lease:
        current = self._leases.get(lease.shard_id)
        if current is None or (current.owner, current.epoch) != (lease.owner, lease.epoch):
            raise StaleVersion(
                f"shard {lease.shard_id} lease",
                expected=lease.epoch,
                current=0 if current is None else current.epoch,
            )
        renewed = Lease(
            current.shard_id,
            current.owner,
            current.epoch,
            max(float(now), current.heartbeat_at),
            current.region,
        )
        self._leases[lease.shard_id] = renewed
        return renewed

    async def release(self, lease: Lease) -> bool:
        current = self._leases.get(lease.shard_id)
        if current is None or (current.owner, current.epoch) != (lease.owner, lease.epoch):
            return False
        del self._leases[lease.shard_id]
        return True

    async def get(self, shard: ShardId) -> Lease | None:
        return self._leases.get(shard)

    async def all(self) -> list[Lease]:
        return [self._leases[shard] for shard in sorted(self._leases)]

    async def ping(self) -> None:
        return None
