"""``SqlConciergeStore``: concierge and success-pod requests with their SLA due time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository, inserted_id, where_equal
from vectobeat_adapters.sql.schema import concierge_budget_locks as budget_locks
from vectobeat_adapters.sql.schema import concierge_requests as table
from vectobeat_adapters.storage_rules import check_concierge, check_concierge_fields
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
        resolved_at=_time(row["resolved_at"]),
        hours=float(row["hours"]),
        contact=str(row["contact"]),
        scheduled_at=_time(row["scheduled_at"]),
        assignee_id=None if row["assignee_id"] is None else UserId(int(row["assignee_id"])),
        assignee_name=None if row["assignee_name"] is None else str(row["assignee_name"]),
        sla_alarmed_at=_time(row["sla_alarmed_at"]),
    )


def _time(value: object) -> float | None:
    return None if value is None else float(cast(float, value))


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
        hours: float = 0.0,
        contact: str = "",
        admit: Callable[[list[ConciergeRequest]], None] | None = None,
    ) -> ConciergeRequest:
        check_concierge(kind, subject)
        check_concierge_fields(hours, contact)
        values: dict[str, Any] = {
            "guild_id": guild,
            "kind": kind,
            "subject": subject,
            "body": body,
            "requested_by": requested_by,
            "status": "open",
            "created_at": now,
            "due_at": due_at,
            "hours": hours,
            "contact": contact,
        }
        lock = self._db.upsert(
            budget_locks,
            {"guild_id": guild, "opened": 1},
            ["guild_id"],
            {"opened": budget_locks.c.opened + 1},
        )

        async def work(conn: AsyncConnection) -> int:
            if admit is not None:
                # the lock row serializes this guild's opens until the transaction ends
                await conn.execute(lock)
                rows = await conn.execute(
                    sa.select(table).where(table.c.guild_id == guild).with_for_update()
                )
                admit([_from_row(row._mapping) for row in rows])
            return inserted_id(await conn.execute(table.insert().values(values)))

        request_id = await self._db.run(work)
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
            hours=hours,
            contact=contact,
        )

    async def get(self, request_id: int) -> ConciergeRequest | None:
        return await self._db.run(lambda conn: _fetch(conn, request_id), idempotent=True)

    async def set_status(
        self, request_id: int, status: ConciergeStatus, now: float, hours: float | None = None
    ) -> ConciergeRequest:
        check_concierge(status=status)
        values: dict[str, Any] = {
            "status": status,
            "resolved_at": now if status == "resolved" else None,
        }
        if hours is not None:
            check_concierge_fields(hours)
            values["hours"] = hours
        return await self._update(request_id, values)

    async def schedule(self, request_id: int, at: float) -> ConciergeRequest:
        return await self._update(request_id, {"scheduled_at": at})

    async def assign(self, request_id: int, user: UserId, name: str) -> ConciergeRequest:
        check_concierge_fields(0, name=name)
        return await self._update(request_id, {"assignee_id": user, "assignee_name": name})

    async def claim_sla_alarm(self, request_id: int, now: float) -> bool:
        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                table.update()
                .where(table.c.request_id == request_id, table.c.sla_alarmed_at.is_(None))
                .values(sla_alarmed_at=now)
            )
            return bool(result.rowcount)

        return await self._db.run(work)

    async def _update(self, request_id: int, values: dict[str, Any]) -> ConciergeRequest:
        async def work(conn: AsyncConnection) -> ConciergeRequest:
            await conn.execute(
                table.update().where(table.c.request_id == request_id).values(values)
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
        return await self._select(where_equal(query, table, guild_id=guild, status=status))

    async def overdue(self, now: float) -> list[ConciergeRequest]:
        query = (
            sa.select(table)
            .where(table.c.status != "resolved", table.c.due_at < now)
            .order_by(table.c.due_at, table.c.request_id)
        )
        return await self._select(query)

    async def _select(self, query: sa.Select[Any]) -> list[ConciergeRequest]:
        return [_from_row(row) for row in await self._mappings(query)]

    async def erase_guild(self, guild: GuildId) -> int:
        erased = await self._erase(guild, table)
        await self._erase(guild, budget_locks)  # only a lock: not counted as the guild's data
        return erased
