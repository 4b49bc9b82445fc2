"""``SqlComplianceStore``: data export/delete requests; the delivery address is encrypted. The
deletions that ran are the erasure record: `record_erasure` bumps the one row of
``vb_erasure_sequence`` and gives the request that place in the same transaction, so the row lock
orders the places as their transactions commit."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, SqlRepository, where_equal
from vectobeat_adapters.sql.schema import compliance_requests as table
from vectobeat_adapters.sql.schema import erasure_sequence
from vectobeat_adapters.storage_rules import COMPLIANCE_FINAL, check_compliance, check_erasure
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import ComplianceKind, ComplianceRequest, ComplianceStatus

__all__ = ["SqlComplianceStore", "compliance_context"]


def compliance_context(guild: int) -> str:
    """Associated data binding a delivery-address ciphertext to its guild."""
    return f"compliance.email:{guild}"


class SqlComplianceStore(SqlRepository):
    """Implements ``ComplianceStore`` on ``vb_compliance_requests``."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        super().__init__(db)
        self._keys = keyring

    def _from_row(self, row: sa.RowMapping) -> ComplianceRequest:
        guild = int(row["guild_id"])
        return ComplianceRequest(
            request_id=int(row["request_id"]),
            guild_id=GuildId(guild),
            kind=cast(ComplianceKind, row["kind"]),
            requested_by=UserId(int(row["requested_by"])),
            email=self._keys.decrypt(str(row["email_enc"]), compliance_context(guild)),
            status=cast(ComplianceStatus, row["status"]),
            detail=str(row["detail"]),
            created_at=float(row["created_at"]),
            completed_at=None if row["completed_at"] is None else float(row["completed_at"]),
        )

    async def open(
        self,
        guild: GuildId,
        kind: ComplianceKind,
        *,
        requested_by: UserId,
        email: str,
        now: float,
    ) -> ComplianceRequest:
        check_compliance(kind)
        values: dict[str, Any] = {
            "guild_id": guild,
            "kind": kind,
            "requested_by": requested_by,
            "email_enc": self._keys.encrypt(email, compliance_context(guild)),
            "status": "pending",
            "detail": "",
            "created_at": now,
        }
        request_id = await self._insert(table, values)
        return ComplianceRequest(
            request_id=request_id,
            guild_id=guild,
            kind=kind,
            requested_by=requested_by,
            email=email,
            status="pending",
            detail="",
            created_at=now,
        )

    async def _row(self, conn: AsyncConnection, request_id: int) -> sa.RowMapping | None:
        query = sa.select(table).where(table.c.request_id == request_id)
        row = (await conn.execute(query)).first()
        return None if row is None else row._mapping

    async def get(self, request_id: int) -> ComplianceRequest | None:
        row = await self._db.run(lambda conn: self._row(conn, request_id), idempotent=True)
        return None if row is None else self._from_row(row)

    async def set_status(
        self, request_id: int, status: ComplianceStatus, now: float, detail: str = ""
    ) -> ComplianceRequest:
        check_compliance(status=status, detail=detail)
        completed_at = now if status in COMPLIANCE_FINAL else None

        async def work(conn: AsyncConnection) -> sa.RowMapping:
            await conn.execute(
                table.update()
                .where(table.c.request_id == request_id)
                .values(status=status, detail=detail, completed_at=completed_at)
            )
            row = await self._row(conn, request_id)
            if row is None:
                raise NotFound(f"compliance request {request_id} does not exist")
            return row

        return self._from_row(await self._db.run(work, idempotent=True))

    async def find(
        self, guild: GuildId | None = None, status: ComplianceStatus | None = None
    ) -> list[ComplianceRequest]:
        query = sa.select(table).order_by(table.c.created_at, table.c.request_id)
        query = where_equal(query, table, guild_id=guild, status=status)
        return [self._from_row(row) for row in await self._mappings(query)]

    async def record_erasure(self, request_id: int, now: float) -> Erasure:
        bump = self._db.upsert(
            erasure_sequence, {"id": 1, "seq": 1}, ["id"], {"seq": erasure_sequence.c.seq + 1}
        )
        place = (
            table.update()
            .where(
                table.c.request_id == request_id,
                table.c.kind == "delete",
                table.c.erasure_seq.is_(None),
            )
            .values(erasure_seq=sa.select(erasure_sequence.c.seq).scalar_subquery(), erased_at=now)
        )

        async def work(conn: AsyncConnection) -> sa.RowMapping:
            await conn.execute(bump)  # the row stays locked until this transaction ends
            if (await conn.execute(place)).rowcount != 1:
                raise _NotPlaced  # placed before, an export, or no such request: undo the bump
            row = await self._row(conn, request_id)
            assert row is not None  # written by this transaction
            return row

        try:
            return _erasure(await self._db.run(work))
        except _NotPlaced:
            pass
        row = await self._db.run(lambda conn: self._row(conn, request_id), idempotent=True)
        if row is None:
            raise NotFound(f"compliance request {request_id} does not exist")
        check_erasure(str(row["kind"]))
        return _erasure(row)

    async def erasures_since(self, cursor: int, limit: int) -> list[Erasure]:
        query = (
            sa.select(table.c.guild_id, table.c.erasure_seq, table.c.erased_at)
            .where(table.c.erasure_seq > cursor)
            .order_by(table.c.erasure_seq)
            .limit(limit)
        )
        return [_erasure(row) for row in await self._mappings(query)]


class _NotPlaced(Exception):
    """Rolls `record_erasure`'s transaction back: the request got no new place."""


def _erasure(row: sa.RowMapping) -> Erasure:
    return Erasure(int(row["erasure_seq"]), GuildId(int(row["guild_id"])), float(row["erased_at"]))
