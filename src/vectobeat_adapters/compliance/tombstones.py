"""Erasure tombstones: a guild's latest erasure, kept a while in the telemetry cache (shared by
every panel replica when it is in Redis) so data of the guild that a bot sent before it applied
the erasure is not stored or shown again (`vectobeat_core.erasures.sent_after`)."""

from __future__ import annotations

from vectobeat_adapters.telemetry_names import ERASURE_TOMBSTONE_DOCUMENT, ERASURE_TOMBSTONE_TTL
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import TelemetryCache

__all__ = ["leave_tombstone", "tombstone_of"]


async def tombstone_of(telemetry: TelemetryCache, guild_id: GuildId) -> Erasure | None:
    """The guild's tombstone, if one is left; `InvalidInput` if it is unreadable."""
    document = await telemetry.get(ERASURE_TOMBSTONE_DOCUMENT.format(guild=guild_id))
    return None if document is None else Erasure.from_json(document)


async def leave_tombstone(telemetry: TelemetryCache, erasure: Erasure) -> None:
    """Leave ``erasure`` as its guild's tombstone (a later erasure's stays; an unreadable one is
    replaced)."""
    try:
        held = await tombstone_of(telemetry, erasure.guild_id)
    except InvalidInput:
        held = None
    if held is not None and held.seq > erasure.seq:
        return
    name = ERASURE_TOMBSTONE_DOCUMENT.format(guild=erasure.guild_id)
    await telemetry.put(name, erasure.to_json(), ERASURE_TOMBSTONE_TTL)
