"""Key rotation for encrypted columns: re-seal every value with the keyring's primary key.

Run after putting a new key first in ``ENCRYPTION_KEYS``; once it reports 0 left, the old key
can be removed. Each value is swapped with a compare-and-set on the old ciphertext, so a row
written concurrently is never overwritten with stale data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.compliance import compliance_context
from vectobeat_adapters.sql.contacts import contact_context
from vectobeat_adapters.sql.engine import Database
from vectobeat_adapters.sql.schema import compliance_requests, contacts

__all__ = ["rotate_all", "rotate_column"]


async def rotate_column(
    db: Database,
    table: sa.Table,
    key: str,
    column: str,
    *,
    keyring: Keyring,
    context: Callable[[Mapping[str, Any]], str],
    batch: int = 500,
) -> int:
    """Re-encrypt ``table.column`` under the primary key; returns how many values changed."""
    key_col, value_col = table.c[key], table.c[column]
    rotated = 0
    after: Any = None
    while True:
        query = sa.select(table).where(value_col.is_not(None)).order_by(key_col).limit(batch)
        if after is not None:
            query = query.where(key_col > after)

        async def read(conn: AsyncConnection, query: sa.Select[Any] = query) -> list[Any]:
            return [dict(row._mapping) for row in await conn.execute(query)]

        rows = await db.run(read, idempotent=True)
        if not rows:
            return rotated
        after = rows[-1][key]
        for row in rows:
            old = str(row[column])
            if not keyring.needs_rotation(old):
                continue
            new = keyring.reencrypt(old, context(row))

            async def swap(
                conn: AsyncConnection, row: Any = row, old: str = old, new: str = new
            ) -> int:
                result = await conn.execute(
                    table.update()
                    .where(key_col == row[key], value_col == old)
                    .values({column: new})
                )
                return int(result.rowcount)

            rotated += await db.run(swap, idempotent=True)


async def rotate_all(db: Database, keyring: Keyring) -> int:
    """Rotate every encrypted column VectoBeat stores; returns how many values changed."""
    total = 0
    for column in ("name_enc", "email_enc", "phone_enc"):

        def context(row: Mapping[str, Any], column: str = column) -> str:
            return contact_context(column, int(row["guild_id"]))

        total += await rotate_column(
            db, contacts, "guild_id", column, keyring=keyring, context=context
        )
    total += await rotate_column(
        db,
        compliance_requests,
        "request_id",
        "email_enc",
        keyring=keyring,
        context=lambda row: compliance_context(int(row["guild_id"])),
    )
    return total
