"""``SettingsRepository.read_with_tier`` and ``save_audited`` (what the panel's save path needs),
on every backend, and with the guilds and the audit log in another store (read and written apart)."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Stores
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.panel import MemoryGuildRepository
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.errors import StaleVersion
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import AuditLog, GuildRepository
from vectobeat_core.records import GuildRecord
from vectobeat_core.settings import ServerSettings, SettingsRecord

pytestmark = pytest.mark.anyio

GUILD = GuildId(512_345_678_901_234_567)
T0 = 1_700_000_000.0


def _record(version: int, volume: int) -> SettingsRecord:
    return SettingsRecord(GUILD, version, ServerSettings(default_volume=volume), T0 + version, "a")


def _event(version: int) -> AuditEvent:
    return AuditEvent.settings_changed(GUILD, version, ("default_volume",), "a", T0 + version)


@pytest.fixture(params=["same store", "apart"])
def neighbours(request: pytest.FixtureRequest, stores: Stores) -> tuple[GuildRepository, AuditLog]:
    if request.param == "same store":
        return stores.guilds, stores.audit
    return MemoryGuildRepository(), MemoryAuditLog()


async def test_read_with_tier_reads_the_record_and_the_guilds_tier(
    stores: Stores, neighbours: tuple[GuildRepository, AuditLog]
) -> None:
    guilds, _ = neighbours
    assert await stores.settings.read_with_tier(GUILD, guilds) == (None, None)
    await guilds.upsert(GuildRecord(GUILD, "Lo-fi Lounge", Tier.GROWTH, True, T0))
    await stores.settings.put(_record(1, 40), 0)
    record, tier = await stores.settings.read_with_tier(GUILD, guilds)
    assert tier is Tier.GROWTH
    assert record is not None and record.version == 1 and record.settings.default_volume == 40


async def test_save_audited_stores_the_record_and_its_events(
    stores: Stores, neighbours: tuple[GuildRepository, AuditLog]
) -> None:
    _, audit = neighbours
    await stores.settings.save_audited(_record(1, 10), 0, [_event(1)], audit)
    await stores.settings.save_audited(_record(2, 20), 1, [_event(2)], audit)
    current = await stores.settings.get(GUILD)
    assert current is not None and current.version == 2
    assert [r.version for r in await stores.settings.history(GUILD)] == [2, 1]
    events = await audit.recent(GUILD, kinds=[AuditKind.SETTINGS_CHANGED])
    assert [e.at for e in events] == [T0 + 2, T0 + 1]


async def test_a_stale_save_audited_writes_nothing(
    stores: Stores, neighbours: tuple[GuildRepository, AuditLog]
) -> None:
    _, audit = neighbours
    await stores.settings.save_audited(_record(1, 10), 0, [_event(1)], audit)
    with pytest.raises(StaleVersion):
        await stores.settings.save_audited(_record(1, 99), 0, [_event(1)], audit)
    current = await stores.settings.get(GUILD)
    assert current is not None and current.settings.default_volume == 10
    assert len(await audit.recent(GUILD)) == 1
