"""``MemoryQueueStore``: queue snapshots in process memory (``memory_services``: tests, benches).

Behaves like ``RedisQueueStore`` and ``SqlQueueStore``: snapshots are kept as JSON text
(:mod:`vectobeat_adapters.snapshot_text`, so what comes back is validated and independent of the
caller's objects), expire after their TTL by the injected clock, are indexed by ``taken_at`` for
eviction, and a stored value that does not parse raises ``InvalidSnapshot``.
"""

from __future__ import annotations

import secrets

from vectobeat_adapters.memory._ttl import TtlDict
from vectobeat_adapters.snapshot_text import snapshot_from_text, snapshot_to_text
from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import Clock, RestoredQueues
from vectobeat_core.queue import QueueSnapshot

__all__ = ["MemoryQueueStore"]


class MemoryQueueStore:
    """In-process durable-queue stand-in (lost on exit, by design)."""

    def __init__(self, clock: Clock) -> None:
        self._data: TtlDict[GuildId, str] = TtlDict(clock)
        self._taken_at: dict[GuildId, float] = {}
        self._generation = secrets.token_hex(8)

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        self._data.put(snapshot.guild_id, snapshot_to_text(snapshot), ttl)
        self._taken_at[snapshot.guild_id] = snapshot.taken_at

    def put_raw(self, guild: GuildId, body: str) -> None:
        """Store arbitrary text as the guild's snapshot (for bad-input tests)."""
        self._data.put(guild, body, None)
        self._taken_at.setdefault(guild, 0.0)

    async def load(self, guild: GuildId) -> QueueSnapshot | None:
        body = self._data.get(guild)
        if body is None:
            return None
        return snapshot_from_text(body, guild, f"the in-memory queue store (guild {guild})")

    async def load_all(self) -> RestoredQueues:
        snapshots: list[QueueSnapshot] = []
        invalid: list[InvalidSnapshot] = []
        for guild in await self.guilds():
            try:
                snapshot = await self.load(guild)
            except InvalidSnapshot as exc:
                invalid.append(exc)
                continue
            if snapshot is not None:
                snapshots.append(snapshot)
        return RestoredQueues(tuple(snapshots), tuple(invalid))

    async def delete(self, guild: GuildId) -> None:
        self._data.pop(guild)
        self._taken_at.pop(guild, None)

    async def guilds(self) -> list[GuildId]:
        live = set(self._data.keys())
        for guild in [g for g in self._taken_at if g not in live]:
            del self._taken_at[guild]
        return sorted(live, key=lambda guild: (self._taken_at[guild], guild))

    async def evict(
        self, *, older_than: float | None = None, max_guilds: int | None = None
    ) -> list[GuildId]:
        ranked = await self.guilds()  # oldest first
        doomed = [g for g in ranked if older_than is not None and self._taken_at[g] < older_than]
        if max_guilds is not None:
            rest = [g for g in ranked if g not in set(doomed)]
            doomed += rest[: max(0, len(rest) - max_guilds)]
        for guild in doomed:
            await self.delete(guild)
        return doomed

    async def ping(self) -> None:
        return None

    async def generation(self) -> str:
        """Fixed for the store's life: process memory is lost only with the process."""
        return self._generation
