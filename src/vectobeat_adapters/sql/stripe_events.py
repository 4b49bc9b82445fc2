"""``SqlStripeEventStore``: Stripe event ids recorded once (a primary key makes it atomic)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import stripe_events
from vectobeat_adapters.storage_rules import check_event_id
from vectobeat_core.errors import Conflict
from vectobeat_core.jsontypes import JSON, json_value

__all__ = ["SqlStripeEventStore"]


class SqlStripeEventStore(SqlRepository):
    """Implements ``StripeEventStore`` on ``vb_stripe_events``."""

    async def record_once(
        self, event_id: str, event_type: str, payload: JSON, *, now: float
    ) -> bool:
        check_event_id(event_id, event_type)
        clean = json_value(payload, "Stripe event payload")
        document = json.dumps(clean, separators=(",", ":"), sort_keys=True)

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                stripe_events.insert().values(
                    event_id=event_id, event_type=event_type, payload=document, received_at=now
                )
            )

        try:
            await self._db.run(work)
        except Conflict:
            return False
        return True

    async def seen(self, event_id: str) -> bool:
        query = sa.select(stripe_events.c.event_id).where(stripe_events.c.event_id == event_id)

        async def work(conn: AsyncConnection) -> bool:
            return (await conn.execute(query)).first() is not None

        return await self._db.run(work, idempotent=True)
