"""``SqlAuditLog``: the append-only audit/automation log (one JSON document per event)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import audit_events
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId

__all__ = ["SqlAuditLog", "audit_insert"]


def _load(text: str, event_id: int) -> AuditEvent:
    try:
        return AuditEvent.from_json(json.loads(text))
    except ValueError:
        raise InvalidInput(f"stored audit event {event_id} is not valid JSON") from None


def audit_insert(events: Sequence[AuditEvent]) -> tuple[sa.Insert, list[dict[str, Any]]]:
    """The ``INSERT`` and its parameter rows that append ``events`` (one executemany)."""
    rows = [
        {
            "guild_id": event.guild_id,
            "kind": event.kind.value,
            "at": event.at,
            "document": json.dumps(event.to_json(), separators=(",", ":"), sort_keys=True),
        }
        for event in events
    ]
    return audit_events.insert(), rows


class SqlAuditLog(SqlRepository):
    """Implements ``AuditLog`` on ``vb_audit_events``; newest first by insertion order."""

    async def append(self, event: AuditEvent) -> None:
        statement, rows = audit_insert((event,))

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement, rows[0])

        await self._db.run(work)

    async def recent(
        self,
        guild: GuildId | None,
        limit: int = 100,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        query = (
            sa.select(audit_events.c.event_id, audit_events.c.document)
            .order_by(audit_events.c.event_id.desc())
            .limit(max(0, limit))
        )
        if guild is not None:
            query = query.where(audit_events.c.guild_id == guild)
        if kinds is not None:
            query = query.where(audit_events.c.kind.in_([kind.value for kind in kinds]))

        async def work(conn: AsyncConnection) -> list[tuple[int, str]]:
            return [(int(row[0]), str(row[1])) for row in await conn.execute(query)]

        return [
            _load(doc, int(event_id)) for event_id, doc in await self._db.run(work, idempotent=True)
        ]

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, audit_events)
