"""``SqlWebhookDeliveryLog``: the latest webhook-export attempts per guild (the bot writes, the
panel reads); each append prunes the guild's attempts beyond the newest ``keep``."""

from __future__ import annotations

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, SqlRepository
from vectobeat_adapters.sql.schema import webhook_deliveries as table
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import DELIVERY_LOG_KEEP, WebhookDelivery

__all__ = ["SqlWebhookDeliveryLog"]


def _from_row(row: sa.RowMapping) -> WebhookDelivery:
    return WebhookDelivery(
        guild_id=GuildId(int(row["guild_id"])),
        delivery_id=str(row["delivery_id"]),
        event=str(row["event"]),
        attempt=int(row["attempt"]),
        at=float(row["at"]),
        latency_ms=float(row["latency_ms"]),
        status_code=None if row["status_code"] is None else int(row["status_code"]),
        error=None if row["error"] is None else str(row["error"]),
    )


class SqlWebhookDeliveryLog(SqlRepository):
    """Implements ``WebhookDeliveryLog`` on ``vb_webhook_deliveries``."""

    def __init__(self, db: Database, keep: int = DELIVERY_LOG_KEEP) -> None:
        super().__init__(db)
        self._keep = keep

    async def append(self, delivery: WebhookDelivery) -> None:
        if not isinstance(delivery, WebhookDelivery):
            raise InvalidInput(f"append needs a WebhookDelivery, got {type(delivery).__name__}.")
        guild = int(delivery.guild_id)
        values = {
            "guild_id": guild,
            "delivery_id": delivery.delivery_id,
            "event": delivery.event,
            "attempt": delivery.attempt,
            "at": delivery.at,
            "latency_ms": delivery.latency_ms,
            "status_code": delivery.status_code,
            "error": delivery.error,
        }

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(table.insert().values(values))
            oldest_kept = (
                await conn.execute(
                    sa.select(table.c.attempt_id)
                    .where(table.c.guild_id == guild)
                    .order_by(table.c.attempt_id.desc())
                    .offset(self._keep - 1)
                    .limit(1)
                )
            ).scalar()
            if oldest_kept is not None:
                await conn.execute(
                    table.delete().where(
                        table.c.guild_id == guild, table.c.attempt_id < oldest_kept
                    )
                )

        await self._db.run(work)

    async def recent(self, guild: GuildId, limit: int = DELIVERY_LOG_KEEP) -> list[WebhookDelivery]:
        query = (
            sa.select(table)
            .where(table.c.guild_id == int(guild))
            .order_by(table.c.attempt_id.desc())
            .limit(max(0, min(limit, self._keep)))
        )
        return [_from_row(row) for row in await self._mappings(query)]

    async def guilds(self) -> list[GuildId]:
        query = sa.select(table.c.guild_id).distinct().order_by(table.c.guild_id)

        async def work(conn: AsyncConnection) -> list[GuildId]:
            return [GuildId(int(guild)) for guild in (await conn.execute(query)).scalars()]

        return await self._db.run(work, idempotent=True)

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, table)
