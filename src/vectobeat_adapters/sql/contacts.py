"""``SqlContactStore``: account contacts (one per role), personal fields encrypted at rest with the
keyring.

Each ciphertext is bound to its column and guild (``contacts.email:<guild>``), so a value copied to
another row does not decrypt. Writing without a key raises ``ConfigError``; nothing is stored.
"""

from __future__ import annotations

import sqlalchemy as sa

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import Database, SqlRepository, where_equal
from vectobeat_adapters.sql.schema import contacts
from vectobeat_adapters.storage_rules import check_contact_role
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import CONTACT_ROLES, Contact, ContactRole

__all__ = ["SqlContactStore", "contact_context"]


def contact_context(column: str, guild: int) -> str:
    """Associated data binding a contact ciphertext to its column and guild."""
    return f"contacts.{column.removesuffix('_enc')}:{guild}"


class SqlContactStore(SqlRepository):
    """Implements ``ContactStore`` on ``vb_account_contacts``."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        super().__init__(db)
        self._keys = keyring

    async def put(self, contact: Contact) -> None:
        check_contact_role(contact.role)
        guild = contact.guild_id
        values = {
            "guild_id": guild,
            "role": contact.role,
            "name_enc": self._keys.encrypt(contact.name, contact_context("name", guild)),
            "email_enc": self._keys.encrypt(contact.email, contact_context("email", guild)),
            "phone_enc": None
            if contact.phone is None
            else self._keys.encrypt(contact.phone, contact_context("phone", guild)),
            "entered_by": contact.entered_by,
            "updated_at": contact.updated_at,
        }
        update = {k: v for k, v in values.items() if k not in ("guild_id", "role")}
        statement = self._db.upsert(contacts, values, ["guild_id", "role"], update)

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(statement)

        await self._db.run(work, idempotent=True)

    async def get(self, guild: GuildId, role: ContactRole) -> Contact | None:
        found = await self._rows(guild, role)
        return found[0] if found else None

    async def for_guild(self, guild: GuildId) -> list[Contact]:
        found = await self._rows(guild, None)
        return sorted(found, key=lambda c: CONTACT_ROLES.index(c.role))

    async def _rows(self, guild: GuildId, role: ContactRole | None) -> list[Contact]:
        query = where_equal(sa.select(contacts), contacts, guild_id=guild, role=role)
        return [self._decrypt(guild, row) for row in await self._mappings(query)]

    def _decrypt(self, guild: GuildId, row: sa.RowMapping) -> Contact:
        phone = row["phone_enc"]
        role: ContactRole = next((r for r in CONTACT_ROLES if r == row["role"]), "billing")
        return Contact(
            guild_id=guild,
            name=self._keys.decrypt(str(row["name_enc"]), contact_context("name", guild)),
            email=self._keys.decrypt(str(row["email_enc"]), contact_context("email", guild)),
            phone=None
            if phone is None
            else self._keys.decrypt(str(phone), contact_context("phone", guild)),
            updated_at=float(row["updated_at"]),
            role=role,
            entered_by=None if row["entered_by"] is None else UserId(int(row["entered_by"])),
        )

    async def delete(self, guild: GuildId, role: ContactRole | None = None) -> bool:
        statement = contacts.delete().where(contacts.c.guild_id == guild)
        if role is not None:
            statement = statement.where(contacts.c.role == role)

        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(statement)
            return bool(result.rowcount)

        return await self._db.run(work)

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, contacts)
