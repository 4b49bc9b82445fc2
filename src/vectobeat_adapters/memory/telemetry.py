"""``MemoryTelemetryCache``: JSON documents by name with a TTL, in process memory."""

from __future__ import annotations

import json
from typing import cast

from vectobeat_adapters.memory._ttl import TtlDict
from vectobeat_adapters.telemetry_names import guild_documents
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import Clock

__all__ = ["MemoryTelemetryCache"]


class MemoryTelemetryCache:
    """Like ``RedisTelemetryCache``; documents are copied through JSON on the way in and out."""

    def __init__(self, clock: Clock) -> None:
        self._docs: TtlDict[str, str] = TtlDict(clock)

    async def put(self, name: str, document: JSON, ttl: float) -> None:
        if not ttl > 0:
            raise InvalidInput(f"telemetry TTL must be a positive number of seconds, got {ttl!r}")
        try:
            body = json.dumps(document, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"telemetry document {name!r} is not JSON ({exc}).") from None
        self._docs.put(name, body, ttl)

    async def get(self, name: str) -> JSON | None:
        body = self._docs.get(name)
        return None if body is None else cast("JSON", json.loads(body))

    async def ping(self) -> None:
        return None

    async def erase_guild(self, guild: GuildId) -> int:
        return sum(self._docs.pop(name) is not None for name in guild_documents(guild))
