"""``SqlContactStore``: account contacts, every field encrypted at rest with the keyring.

Each ciphertext is bound to its column and guild (``contacts.email:<guild>``), so a value copied to
another row does not decrypt. Writing without a key raises ``ConfigError``; nothing is stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.engine import Database, SqlRepository
from vectobeat_adapters.sql.schema import contacts
from vectobeat_core.ids import GuildId
from vectobeat_core.records import Contact

__all__ = ["SqlContactStore", "contact_context"]


def contact_context(column: str, guild: int) -> str:
    """Associated data binding a contact ciphertext to its column and guild."""
    return f"contacts.{column.removesuffix('_enc')}:{guild}"


class SqlContactStore(SqlRepository):
    """Implements ``ContactStore`` on ``vb_contacts``."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        super().__init__(db)
        self._keys = keyring

    async def put(self, contact: Contact) -> None:
        guild = contact.guild_id
        values = {
            "guild_id": guild,
            "name_enc": self._keys.encrypt(contact.name, contact_context("name", guild)),
            "email_enc": self._keys.encrypt(contact.email, contact_context("email", guild)),
            "phone_enc": None
            if contact.phone is None
            else self._keys.encrypt(contact.phone, contact_context("phone", guild)),
            "updated_at": contact.updated_at,
        }
        update = {k: v for k, v in values.items() if k != "guild_id"}
        statement = self._db.upsert(contacts, values, ["guild_id"], update)

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self._db.run(work, idempotent=True)

    async def get(self, guild: GuildId) -> Contact | None:
        async def work(conn: AsyncConnection) -> sa.RowMapping | None:
            row = (
                await conn.execute(sa.select(contacts).where(contacts.c.guild_id == guild))
            ).first()
            return None if row is None else row._mapping

        row = await self._db.run(work, idempotent=True)
        if row is None:
            return None
        phone = row["phone_enc"]
        return Contact(
            guild_id=guild,
            name=self._keys.decrypt(str(row["name_enc"]), contact_context("name", guild)),
            email=self._keys.decrypt(str(row["email_enc"]), contact_context("email", guild)),
            phone=None
            if phone is None
            else self._keys.decrypt(str(phone), contact_context("phone", guild)),
            updated_at=float(row["updated_at"]),
        )

    async def delete(self, guild: GuildId) -> bool:
        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(contacts.delete().where(contacts.c.guild_id == guild))
            return bool(result.rowcount)

        return await self._db.run(work)

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, contacts)
