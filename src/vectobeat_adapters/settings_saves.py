"""How a settings store reads and saves alongside stores it does not share a database with
(`SettingsRepository.read_with_tier` and ``save_audited`` for memory, or SQL next to other
stores): the two reads at once, the write before its audit rows."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from vectobeat_core.audit import AuditEvent
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import AuditLog, GuildRepository, SettingsRepository
from vectobeat_core.settings import SettingsRecord

__all__ = ["read_apart", "save_then_audit"]


async def read_apart(
    settings: SettingsRepository, guilds: GuildRepository, guild: GuildId
) -> tuple[SettingsRecord | None, Tier | None]:
    """The record and the guild's tier, both reads at once (one round trip)."""
    record: list[SettingsRecord | None] = [None]
    tier: list[Tier | None] = [None]

    async def read_record() -> None:
        record[0] = await settings.get(guild)

    async def read_tier() -> None:
        found = await guilds.get(guild)
        tier[0] = None if found is None else found.tier

    async with anyio.create_task_group() as reads:
        reads.start_soon(read_record)
        reads.start_soon(read_tier)
    return record[0], tier[0]


async def save_then_audit(
    settings: SettingsRepository,
    audit: AuditLog,
    record: SettingsRecord,
    base_version: int,
    events: Sequence[AuditEvent],
) -> None:
    """The compare-and-set write, then the audit appends (none when the write was stale)."""
    await settings.put(record, base_version)
    for event in events:
        await audit.append(event)
