"""``MemorySettingsRepository``: versioned settings with compare-and-set, in one process."""

from __future__ import annotations

from collections.abc import Sequence

from vectobeat_adapters.memory._base import MemoryService
from vectobeat_adapters.settings_saves import read_apart, save_then_audit
from vectobeat_adapters.storage_rules import check_put
from vectobeat_core.audit import AuditEvent
from vectobeat_core.errors import StaleVersion
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import AuditLog, GuildRepository
from vectobeat_core.settings import SettingsRecord

__all__ = ["MemorySettingsRepository"]


class MemorySettingsRepository(MemoryService):
    """Implements ``SettingsRepository``; the check-and-write has no await, so it is atomic."""

    def __init__(self) -> None:
        self._history: dict[GuildId, list[SettingsRecord]] = {}

    async def get(self, guild: GuildId) -> SettingsRecord | None:
        versions = self._history.get(guild)
        return versions[-1] if versions else None

    async def put(self, record: SettingsRecord, base_version: int) -> None:
        check_put(record, base_version)
        versions = self._history.setdefault(record.guild_id, [])
        current = versions[-1].version if versions else 0
        if current != base_version:
            raise StaleVersion("This server's settings", base_version, current)
        versions.append(record)

    async def history(self, guild: GuildId, limit: int = 20) -> list[SettingsRecord]:
        versions = self._history.get(guild, [])
        return list(reversed(versions))[: max(0, limit)]

    async def read_with_tier(
        self, guild: GuildId, guilds: GuildRepository
    ) -> tuple[SettingsRecord | None, Tier | None]:
        return await read_apart(self, guilds, guild)

    async def save_audited(
        self,
        record: SettingsRecord,
        base_version: int,
        events: Sequence[AuditEvent],
        audit: AuditLog,
    ) -> None:
        await save_then_audit(self, audit, record, base_version, events)

    async def erase_guild(self, guild: GuildId) -> int:
        return len(self._history.pop(guild, []))
