"""``SqlQueueStore``: durable per-guild queue snapshots in the SQL database (no ``REDIS_URL``).

One row per guild in ``vb_queue_snapshots``: the snapshot as one JSON text
(:mod:`vectobeat_adapters.snapshot_text`, the codec the memory store shares), its ``taken_at``
(restore order and eviction) and ``expires_at`` (now + the plan's TTL by the injected clock; ``NULL``
keeps it). An expired row is invisible to ``load``, ``load_all`` and ``guilds``; ``evict`` and
``load_all`` delete it.

Ordering, as in ``RedisQueueStore``: a save replaces the guild's snapshot whole in one statement
(an upsert in each dialect), so a reader sees the old or the new snapshot, never a mix, and the last
save wins; ``taken_at`` is not compared, so ``vectobeat-ops queue restore`` can put back an older
export. ``evict`` deletes a guild only if its ``taken_at`` is still the one it ranked: a guild saved
again meanwhile is spared.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

import sqlalchemy as sa

from vectobeat_adapters.snapshot_text import snapshot_from_text, snapshot_to_text
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, SqlRepository
from vectobeat_adapters.sql.schema import queue_generation, queue_snapshots
from vectobeat_core.errors import InvalidInput, InvalidSnapshot
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import Clock, RestoredQueues
from vectobeat_core.queue import QueueSnapshot

__all__ = ["SqlQueueStore"]

_T = queue_snapshots.c
_BATCH = 500


def _live(now: float) -> sa.ColumnElement[bool]:
    """Rows not expired at ``now`` (an expired row is one whose ``expires_at <= now``)."""
    return sa.or_(_T.expires_at.is_(None), _T.expires_at > now)


class SqlQueueStore(SqlRepository):
    """Implements ``QueueStore`` on ``vb_queue_snapshots`` (see the module docstring)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db)
        self._clock = clock

    def _where(self, guild: GuildId) -> str:
        return f"{self._db.label} table {queue_snapshots.name} (guild {guild})"

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        """Store ``snapshot`` whole (``ttl=None``: no expiry); the last save wins."""
        if ttl is not None and (isinstance(ttl, bool) or not math.isfinite(ttl)):
            raise InvalidInput(
                f"A queue snapshot TTL must be a finite number of seconds, not {ttl!r}."
            )
        values: dict[str, Any] = {
            "guild_id": snapshot.guild_id,
            "taken_at": snapshot.taken_at,
            "expires_at": None if ttl is None else self._clock.now() + ttl,
            "document": snapshot_to_text(snapshot),
        }
        statement = self._db.insert_or_replace(queue_snapshots, values, ["guild_id"])

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self._db.run(work, idempotent=True)

    async def generation(self) -> str:
        """The token of ``vb_queue_generation`` (made on first read): a database emptied or
        restored from an older dump has another, and the bot then rewrites every guild."""
        made = self._db.upsert(
            queue_generation,
            {"id": 1, "token": secrets.token_hex(8)},
            ["id"],
            {"token": queue_generation.c.token},  # keep the token that is there
        )
        read = sa.select(queue_generation.c.token).where(queue_generation.c.id == 1)

        async def work(conn: AsyncConnection) -> str:
            await conn.execute(made)
            return str((await conn.execute(read)).scalar_one())

        return await self._db.run(work, idempotent=True)

    async def load(self, guild: GuildId) -> QueueSnapshot | None:
        """``None`` when absent or expired; a bad stored row raises ``InvalidSnapshot`` (kept)."""
        query = sa.select(_T.document).where(_T.guild_id == guild, _live(self._clock.now()))

        async def work(conn: AsyncConnection) -> str | None:
            return (await conn.execute(query)).scalar_one_or_none()

        text = await self._db.run(work, idempotent=True)
        return None if text is None else snapshot_from_text(text, guild, self._where(guild))

    async def load_all(self) -> RestoredQueues:
        """Every live snapshot, oldest first; unreadable rows are reported and left as they are."""
        now = self._clock.now()
        query = (
            sa.select(_T.guild_id, _T.document).where(_live(now)).order_by(_T.taken_at, _T.guild_id)
        )

        async def work(conn: AsyncConnection) -> RestoredQueues:
            await conn.execute(queue_snapshots.delete().where(_T.expires_at <= now))
            snapshots: list[QueueSnapshot] = []
            invalid: list[InvalidSnapshot] = []
            result = await conn.stream(query)
            async for rows in result.partitions(_BATCH):
                for guild_id, text in rows:
                    guild = GuildId(int(guild_id))
                    try:
                        snapshots.append(snapshot_from_text(text, guild, self._where(guild)))
                    except InvalidSnapshot as exc:
                        invalid.append(exc)
            return RestoredQueues(tuple(snapshots), tuple(invalid))

        return await self._db.run(work, idempotent=True)

    async def delete(self, guild: GuildId) -> None:
        async def work(conn: AsyncConnection) -> None:
            await conn.execute(queue_snapshots.delete().where(_T.guild_id == guild))

        await self._db.run(work, idempotent=True)

    async def guilds(self) -> list[GuildId]:
        """Guilds with a live snapshot, oldest ``taken_at`` first."""
        query = (
            sa.select(_T.guild_id)
            .where(_live(self._clock.now()))
            .order_by(_T.taken_at, _T.guild_id)
        )

        async def work(conn: AsyncConnection) -> list[GuildId]:
            return [GuildId(int(g)) for g in (await conn.execute(query)).scalars()]

        return await self._db.run(work, idempotent=True)

    async def evict(
        self, *, older_than: float | None = None, max_guilds: int | None = None
    ) -> list[GuildId]:
        """Delete expired rows, then snapshots taken before ``older_than``, then all but the newest
        ``max_guilds``; returns the evicted guilds (expired ones are not listed, as in Redis)."""
        if max_guilds is not None and (isinstance(max_guilds, bool) or max_guilds < 0):
            raise InvalidInput(f"max_guilds must be a whole number >= 0, not {max_guilds!r}.")
        now = self._clock.now()
        ranked_query = (
            sa.select(_T.guild_id, _T.taken_at).where(_live(now)).order_by(_T.taken_at, _T.guild_id)
        )

        async def work(conn: AsyncConnection) -> list[GuildId]:
            await conn.execute(queue_snapshots.delete().where(_T.expires_at <= now))
            ranked = [(GuildId(int(g)), float(t)) for g, t in await conn.execute(ranked_query)]
            doomed = [(g, t) for g, t in ranked if older_than is not None and t < older_than]
            if max_guilds is not None:
                gone = {guild for guild, _ in doomed}
                rest = [(g, t) for g, t in ranked if g not in gone]
                doomed += rest[: max(0, len(rest) - max_guilds)]
            evicted: list[GuildId] = []
            for guild, taken in doomed:
                result = await conn.execute(
                    queue_snapshots.delete().where(_T.guild_id == guild, _T.taken_at == taken)
                )
                if result.rowcount:
                    evicted.append(guild)
            return evicted

        return await self._db.run(work, idempotent=True)
