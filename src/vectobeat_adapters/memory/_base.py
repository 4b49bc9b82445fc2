"""What every in-memory store shares: a health check that always answers."""

from __future__ import annotations

__all__ = ["MemoryService"]


class MemoryService:
    """Base of the in-memory stores; ``ping`` succeeds (the process is the storage)."""

    async def ping(self) -> None:
        return None
