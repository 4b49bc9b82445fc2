"""``SqlSettingsRepository``: versioned settings with compare-and-set writes and full history.

``put(record, base_version)`` is one transaction: ``UPDATE ... WHERE version = :base`` (or an
``INSERT`` for base 0, which the primary key makes exclusive), then a history row for the new
version (and, with ``put_audited``, the save's audit rows). Zero rows updated, or a duplicate
insert, means someone else wrote first: ``StaleVersion`` carrying the version that is current now.
``get_with_tier`` reads the record and the guild's plan tier in one statement for a save. The port's
``read_with_tier`` and ``save_audited`` use these when the guilds and the audit log live in the
same database, else read and write apart (`vectobeat_adapters.settings_saves`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from vectobeat_adapters.settings_saves import read_apart, save_then_audit
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.audit import audit_insert
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import guilds, settings_current, settings_history
from vectobeat_adapters.storage_rules import check_put
from vectobeat_core.audit import AuditEvent
from vectobeat_core.errors import Conflict, InvalidInput, InvalidSettings, StaleVersion
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import AuditLog, GuildRepository
from vectobeat_core.settings import SettingsRecord

__all__ = ["SqlSettingsRepository", "dump_record", "load_record"]


def dump_record(record: SettingsRecord) -> str:
    return json.dumps(record.to_json(), separators=(",", ":"), sort_keys=True)


def load_record(text: str, where: str) -> SettingsRecord:
    """Read a stored record; damage is reported naming the guild and version."""
    try:
        return SettingsRecord.from_json(json.loads(text))
    except ValueError:
        raise InvalidInput(f"stored settings {where} are not valid JSON") from None
    except InvalidSettings as error:
        raise InvalidInput(f"stored settings {where} no longer validate: {error}") from None


async def _current_version(conn: AsyncConnection, guild: GuildId) -> int:
    query = sa.select(settings_current.c.version).where(settings_current.c.guild_id == guild)
    value = (await conn.execute(query)).scalar()
    return 0 if value is None else int(value)


class SqlSettingsRepository(SqlRepository):
    """Implements ``SettingsRepository`` on ``vb_settings`` and ``vb_settings_history``."""

    async def get(self, guild: GuildId) -> SettingsRecord | None:
        query = sa.select(settings_current.c.document, settings_current.c.version).where(
            settings_current.c.guild_id == guild
        )

        async def work(conn: AsyncConnection) -> tuple[str, int] | None:
            row = (await conn.execute(query)).first()
            return None if row is None else (str(row[0]), int(row[1]))

        row = await self._db.run(work, idempotent=True)
        if row is None:
            return None
        return load_record(row[0], f"of guild {guild} (version {row[1]})")

    async def get_with_tier(self, guild: GuildId) -> tuple[SettingsRecord | None, Tier | None]:
        """The current record and the guild's tier (``None`` when unknown), in one statement."""

        def scalar(column: sa.Column[Any], table: sa.Table) -> sa.ScalarSelect[Any]:
            return sa.select(column).where(table.c.guild_id == guild).scalar_subquery()

        query = sa.select(
            scalar(settings_current.c.document, settings_current),
            scalar(settings_current.c.version, settings_current),
            scalar(guilds.c.tier, guilds),
        )

        async def work(conn: AsyncConnection) -> tuple[str | None, int, str | None]:
            row = (await conn.execute(query)).one()
            doc = None if row[0] is None else str(row[0])
            return doc, 0 if row[1] is None else int(row[1]), row[2]

        document, version, tier = await self._db.run(work, idempotent=True)
        record = (
            None
            if document is None
            else load_record(document, f"of guild {guild} (version {version})")
        )
        return record, None if tier is None else Tier.parse(tier)

    async def read_with_tier(
        self, guild: GuildId, guilds: GuildRepository
    ) -> tuple[SettingsRecord | None, Tier | None]:
        if self.shares_database(guilds):
            return await self.get_with_tier(guild)
        return await read_apart(self, guilds, guild)

    async def save_audited(
        self,
        record: SettingsRecord,
        base_version: int,
        events: Sequence[AuditEvent],
        audit: AuditLog,
    ) -> None:
        if self.shares_database(audit):
            await self.put_audited(record, base_version, events)
        else:
            await save_then_audit(self, audit, record, base_version, events)

    async def put(self, record: SettingsRecord, base_version: int) -> None:
        await self.put_audited(record, base_version, ())

    async def put_audited(
        self, record: SettingsRecord, base_version: int, events: Sequence[AuditEvent]
    ) -> None:
        """``put`` plus appending ``events`` to ``vb_audit_events``, all in one transaction."""
        check_put(record, base_version)
        guild = record.guild_id
        values = {"document": dump_record(record), "updated_at": record.updated_at}
        audit = audit_insert(events) if events else None

        async def work(conn: AsyncConnection) -> None:
            if base_version == 0:
                await conn.execute(
                    settings_current.insert().values(guild_id=guild, version=1, **values)
                )
            else:
                result = await conn.execute(
                    settings_current.update()
                    .where(
                        settings_current.c.guild_id == guild,
                        settings_current.c.version == base_version,
                    )
                    .values(version=record.version, **values)
                )
                if result.rowcount != 1:
                    current = await _current_version(conn, guild)
                    raise StaleVersion("This server's settings", base_version, current)
            await conn.execute(
                settings_history.insert().values(guild_id=guild, version=record.version, **values)
            )
            if audit is not None:
                await conn.execute(*audit)

        try:
            await self._db.run(work)
        except StaleVersion:
            raise
        except Conflict:
            current = await self._db.run(
                lambda conn: _current_version(conn, guild), idempotent=True
            )
            raise StaleVersion("This server's settings", base_version, current) from None

    async def history(self, guild: GuildId, limit: int = 20) -> list[SettingsRecord]:
        query = (
            sa.select(settings_history.c.document, settings_history.c.version)
            .where(settings_history.c.guild_id == guild)
            .order_by(settings_history.c.version.desc())
            .limit(max(0, limit))
        )

        async def work(conn: AsyncConnection) -> list[tuple[str, int]]:
            return [(str(row[0]), int(row[1])) for row in await conn.execute(query)]

        rows = await self._db.run(work, idempotent=True)
        return [load_record(doc, f"of guild {guild} (version {ver})") for doc, ver in rows]

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, settings_current, settings_history)
