"""``MemoryAuditLog``: the append-only audit log, in one process."""

from __future__ import annotations

from collections.abc import Collection

from vectobeat_adapters.memory._base import MemoryService
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId

__all__ = ["MemoryAuditLog"]


class MemoryAuditLog(MemoryService):
    """Implements ``AuditLog``; newest first by insertion order."""

    def __init__(self) -> None:
        self._events: list[AuditEvent] = []

    async def append(self, event: AuditEvent) -> None:
        self._events.append(event)

    async def recent(
        self,
        guild: GuildId | None,
        limit: int = 100,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        wanted = None if kinds is None else set(kinds)
        found: list[AuditEvent] = []
        for event in reversed(self._events):
            if len(found) >= limit:
                break
            if guild is not None and event.guild_id != guild:
                continue
            if wanted is not None and event.kind not in wanted:
                continue
            found.append(event)
        return found

    async def erase_guild(self, guild: GuildId) -> int:
        kept = [e for e in self._events if e.guild_id != guild]
        erased, self._events = len(self._events) - len(kept), kept
        return erased
