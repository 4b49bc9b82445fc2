"""``SqlConciergeStore``: concierge and success-pod requests with their SLA due time."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import concierge_requests as table
from vectobeat_adapters.storage_rules import check_concierge
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import ConciergeKind, ConciergeRequest, ConciergeStatus

__all__ = ["SqlConciergeStore"]


def _from_row(row: sa.RowMapping) -> ConciergeRequest:
    return ConciergeRequest(
        request_id=int(row["request_id"]),
        guild_id=GuildId(int(row["guild_id"])),
        kind=cast(ConciergeKind, row["kind"]),
        subject=str(row["subject"]),
        body=str(row["body"]),
        requested_by=UserId(int(row["requested_by"])),
        status=cast(ConciergeStatus, row["status"]),
        created_at=float(row["created_at"]),
        due_at=float(row["due_at"]),
        resolved_at=None if row["resolved_at"] is None else float(row["resolved_at"]),
    )


async def _fetch(conn: AsyncConnection, request_id: int) -> ConciergeRequest | None:
    row = (await conn.execute(sa.select(table).where(table.c.request_id == request_id))).first()
    return None if row is None else _from_row(row._mapping)


class SqlConciergeStore(SqlRepository):
    """Implements ``ConciergeStore`` on ``vb_concierge_requests``."""

    async def open(
        self,
        guild: GuildId,
        kind: ConciergeKind,
        *,
        subject: str,
        body: str,
        requested_by: UserId,
        now: float,
        due_at: float,
    ) -> ConciergeRequest:
        check_concierge(kind, subject)
        values: dict[str, Any] = {
            "guild_id": guild,
            "kind": kind,
            "subject": subject,
            "body": body,
            "requested_by": requested_by,
            "status": "open",
            "created_at": now,
            "due_at": due_at,
        }
        request_id = await self._insert(table, values)
        return ConciergeRequest(
            request_id=request_id,
            guild_id=guild,
            kind=kind,
            subject=subject,
            body=body,
            requested_by=requested_by,
            status="open",
            created_at=now,
            due_at=due_at,
        )

    async def get(self, request_id: int) -> ConciergeRequest | None:
        return await self._db.run(lambda conn: _fetch(conn, request_id), idempotent=True)

    async def set_status(
        self, request_id: int, status: ConciergeStatus, now: float
    ) -> ConciergeRequest:
        check_concierge(status=status)
        resolved_at = now if status == "resolved" else None

        async def work(conn: AsyncConnection) -> ConciergeRequest:
            await conn.execute(
                table.update()
                .where(table.c.request_id == request_id)
                .values(status=status, resolved_at=resolved_at)
            )
            found = await _fetch(conn, request_id)
            if found is None:
                raise NotFound(f"concierge request {request_id} does not exist")
            return found

        return await self._db.run(work, idempotent=True)

    async def find(
        self, guild: GuildId | None = None, status: ConciergeStatus | None = None
    ) -> list[ConciergeRequest]:
        query = sa.select(table).order_by(table.c.due_at, table.c.request_id)
        if guild is not None:
            query = query.where(table.c.guild_id == guild)
        if status is not None:
            query = query.where(table.c.status == status)
        return await self._select(query)

    async def overdue(self, now: float) -> list[ConciergeRequest]:
        query = (
            sa.select(table)
            .where(table.c.status != "resolved", table.c.due_at < now)
            .order_by(table.c.due_at, table.c.request_id)
        )
        return await self._select(query)

    async def _select(self, query: sa.Select[Any]) -> list[ConciergeRequest]:
        async def work(conn: AsyncConnection) -> list[ConciergeRequest]:
            return [_from_row(row._mapping) for row in await conn.execute(query)]

        return await self._db.run(work, idempotent=True)

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, table)
