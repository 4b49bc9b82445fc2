"""Migration r0005 drops the retired ``custom_prefix`` from every stored settings document
(current and history, more than one page of them) on each backend, and changes nothing else."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import URL
from tests.integration.test_sql_bad_input import fresh_url, sqlite_url  # noqa: F401 - fixtures

from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.migrate import alembic_config, head_revision, upgrade_database
from vectobeat_adapters.sql.schema import settings_current, settings_history
from vectobeat_adapters.sql.settings import SqlSettingsRepository
from vectobeat_core.ids import GuildId
from vectobeat_core.settings import ServerSettings, SettingsRecord

pytestmark = pytest.mark.anyio

OLD, PLAIN = GuildId(512_345_678_901_234_567), GuildId(512_345_678_901_234_568)
VERSIONS = 260  # two guilds' histories: more than one 500-row page


def document(guild: GuildId, version: int, prefix: str | None) -> str:
    record = SettingsRecord(guild, version, ServerSettings(default_volume=version % 200), 1.0, "t")
    payload = record.to_json()
    if prefix is not None:
        settings = payload["settings"]
        assert isinstance(settings, dict)
        settings["custom_prefix"] = prefix
    return json.dumps(payload)


async def test_the_prefix_is_dropped_from_every_document_and_nothing_else_changes(
    fresh_url: URL,  # noqa: F811 - the fixture
) -> None:
    async with open_database(fresh_url) as db, db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "r0003"))
        for guild, prefix in ((OLD, "vb!"), (PLAIN, None)):
            await conn.execute(
                sa.insert(settings_current).values(
                    guild_id=guild, version=VERSIONS, document=document(guild, VERSIONS, prefix),
                    updated_at=1.0,
                )
            )  # fmt: skip
            await conn.execute(
                sa.insert(settings_history),
                [
                    {"guild_id": guild, "version": v, "document": document(guild, v, prefix),
                     "updated_at": 1.0}
                    for v in range(1, VERSIONS + 1)
                ],
            )  # fmt: skip

    assert await upgrade_database(fresh_url) == head_revision()

    async with open_database(fresh_url) as db:
        async with db.engine.connect() as conn:
            rows = [
                *(await conn.execute(sa.select(settings_history.c.document))).all(),
                *(await conn.execute(sa.select(settings_current.c.document))).all(),
            ]
        assert len(rows) == 2 * VERSIONS + 2
        assert not any("custom_prefix" in row.document for row in rows)
        repo = SqlSettingsRepository(db)
        for guild in (OLD, PLAIN):
            record = await repo.get(guild)
            assert record is not None
            assert record.settings == ServerSettings(default_volume=VERSIONS % 200)
