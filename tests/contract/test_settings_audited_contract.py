"""SQL settings save path: record + history + audit rows in one transaction, and the one-statement
read of the current record with the guild's tier (every SQL backend)."""

from __future__ import annotations

import attrs
import httpx
import pytest

from tests.contract.conftest import Stores
from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.services import memory_services
from vectobeat_adapters.sql.settings import SqlSettingsRepository
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.errors import StaleVersion
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_core.settings import ServerSettings, SettingsRecord
from vectobeat_panel.app import create_app

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
T0 = 1_700_000_000.0


def _record(version: int, volume: int) -> SettingsRecord:
    settings = ServerSettings(default_volume=volume)
    return SettingsRecord(GUILD, version, settings, T0 + version, "admin")


def _event(version: int) -> AuditEvent:
    return AuditEvent.settings_changed(GUILD, version, ("default_volume",), "admin", T0 + version)


def _repo(stores: Stores) -> SqlSettingsRepository:
    assert isinstance(stores.settings, SqlSettingsRepository)
    assert stores.settings.shares_database(stores.audit)
    assert stores.settings.shares_database(stores.guilds)
    return stores.settings


async def test_put_audited_writes_record_history_and_audit(sql_stores: Stores) -> None:
    repo = _repo(sql_stores)
    await repo.put_audited(_record(1, 10), 0, [_event(1)])
    await repo.put_audited(_record(2, 20), 1, [_event(2), _event(2)])
    current = await repo.get(GUILD)
    assert current is not None and current.version == 2
    assert current.settings.default_volume == 20
    assert [r.version for r in await repo.history(GUILD)] == [2, 1]
    events = await sql_stores.audit.recent(GUILD, kinds=[AuditKind.SETTINGS_CHANGED])
    assert [e.at for e in events] == [T0 + 2, T0 + 2, T0 + 1]


async def test_stale_put_audited_writes_no_audit_row(sql_stores: Stores) -> None:
    repo = _repo(sql_stores)
    await repo.put_audited(_record(1, 10), 0, [_event(1)])
    for record, base in ((_record(1, 99), 0), (_record(3, 99), 2)):
        with pytest.raises(StaleVersion) as caught:
            await repo.put_audited(record, base, [_event(record.version)])
        assert caught.value.current == 1
    assert len(await sql_stores.audit.recent(GUILD)) == 1
    assert [r.version for r in await repo.history(GUILD)] == [1]


async def test_get_with_tier_reads_both_tables(sql_stores: Stores) -> None:
    repo = _repo(sql_stores)
    assert await repo.get_with_tier(GUILD) == (None, None)
    await sql_stores.guilds.upsert(GuildRecord(GUILD, "Guild", Tier.GROWTH, True, T0))
    assert await repo.get_with_tier(GUILD) == (None, Tier.GROWTH)
    await repo.put(_record(1, 42), 0)
    record, tier = await repo.get_with_tier(GUILD)
    assert record == await repo.get(GUILD) and record is not None
    assert record.settings.default_volume == 42 and tier is Tier.GROWTH


async def test_bridge_save_on_sql_commits_audit_with_the_record(sql_stores: Stores) -> None:
    token = "contract-bridge-" + "c" * 32
    config = AppConfig(bot_bridge_token=Secret(token), session_secret=Secret("s" * 48))
    services = attrs.evolve(
        memory_services(),
        settings=sql_stores.settings,
        audit=sql_stores.audit,
        guilds=sql_stores.guilds,
    )
    await sql_stores.guilds.upsert(GuildRecord(GUILD, "Guild", Tier.GROWTH, True, T0))
    transport = httpx.ASGITransport(app=create_app(config, services))
    url = f"/api/bot/server-settings?guild_id={GUILD}"
    async with httpx.AsyncClient(
        transport=transport, base_url="http://panel", headers={"authorization": f"Bearer {token}"}
    ) as client:
        saved = await client.put(url, json={"version": 0, "settings": {"default_volume": 33}})
        assert saved.status_code == 200
        body = saved.json()
        assert (body["version"], body["plan"], body["clamps"]) == (1, Tier.GROWTH.key, [])
        assert body["settings"]["default_volume"] == 33
        stale = await client.put(url, json={"version": 0, "settings": {"default_volume": 44}})
        assert stale.status_code == 409
        assert (await client.get(url)).json() == {k: v for k, v in body.items() if k != "clamps"}
    events = await sql_stores.audit.recent(GUILD)
    assert [(e.kind, e.actor) for e in events] == [(AuditKind.SETTINGS_CHANGED, "bot")]
    assert [r.version for r in await sql_stores.settings.history(GUILD)] == [1]
