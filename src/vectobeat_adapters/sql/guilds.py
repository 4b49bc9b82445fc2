"""``SqlGuildRepository``: guilds, their plan tier and whether the bot is present."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import guilds
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord

__all__ = ["SqlGuildRepository", "guild_from_row"]


def guild_from_row(row: sa.RowMapping) -> GuildRecord:
    return GuildRecord(
        guild_id=GuildId(int(row["guild_id"])),
        name=str(row["name"]),
        tier=Tier.parse(row["tier"]),
        bot_present=bool(row["bot_present"]),
        updated_at=float(row["updated_at"]),
    )


async def _fetch(conn: AsyncConnection, guild: GuildId) -> GuildRecord | None:
    row = (await conn.execute(sa.select(guilds).where(guilds.c.guild_id == guild))).first()
    return None if row is None else guild_from_row(row._mapping)


class SqlGuildRepository(SqlRepository):
    """Implements ``GuildRepository`` on the ``vb_guilds`` table."""

    async def get(self, guild: GuildId) -> GuildRecord | None:
        return await self._db.run(lambda conn: _fetch(conn, guild), idempotent=True)

    async def upsert(self, record: GuildRecord) -> None:
        values: dict[str, Any] = {
            "guild_id": record.guild_id,
            "name": record.name,
            "tier": record.tier.key,
            "bot_present": record.bot_present,
            "updated_at": record.updated_at,
        }
        update = {k: v for k, v in values.items() if k != "guild_id"}
        statement = self._db.upsert(guilds, values, ["guild_id"], update)

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self._db.run(work, idempotent=True)

    async def _update(self, guild: GuildId, values: dict[str, Any]) -> GuildRecord:
        async def work(conn: AsyncConnection) -> GuildRecord:
            await conn.execute(guilds.update().where(guilds.c.guild_id == guild).values(values))
            record = await _fetch(conn, guild)
            if record is None:
                raise NotFound(f"guild {guild} is not known to the panel")
            return record

        return await self._db.run(work, idempotent=True)

    async def set_tier(self, guild: GuildId, tier: Tier, now: float) -> GuildRecord:
        return await self._update(guild, {"tier": tier.key, "updated_at": now})

    async def set_bot_present(self, guild: GuildId, present: bool, now: float) -> GuildRecord:
        return await self._update(guild, {"bot_present": present, "updated_at": now})

    async def all(self, tier: Tier | None = None) -> list[GuildRecord]:
        query = sa.select(guilds).order_by(guilds.c.guild_id)
        if tier is not None:
            query = query.where(guilds.c.tier == tier.key)
        return [guild_from_row(row) for row in await self._mappings(query)]
