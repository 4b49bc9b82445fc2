"""``MemoryHealthStore``: node health records in process memory, expiring by the injected clock."""

from __future__ import annotations

from vectobeat_adapters.memory._ttl import TtlDict
from vectobeat_core.health import NodeHealth
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import Clock

__all__ = ["MemoryHealthStore"]


class MemoryHealthStore:
    """Like ``RedisHealthStore``: a record vanishes ``ttl`` seconds after its last ``put``."""

    def __init__(self, clock: Clock) -> None:
        self._records: TtlDict[NodeName, NodeHealth] = TtlDict(clock)

    async def put(self, health: NodeHealth, ttl: float) -> None:
        self._records.put(health.node, NodeHealth.from_json(health.to_json()), ttl)

    async def get(self, node: NodeName) -> NodeHealth | None:
        return self._records.get(node)

    async def all(self) -> list[NodeHealth]:
        """Every live record, by node name."""
        records = [self._records.get(node) for node in sorted(self._records.keys())]
        return [record for record in records if record is not None]

    async def ping(self) -> None:
        return None
