"""SettingsRepository contract: compare-and-set versions, history, concurrency (every backend)."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import attrs
import pytest

from tests.contract.conftest import Stores
from vectobeat_core.errors import InvalidInput, StaleVersion
from vectobeat_core.ids import GuildId, RoleId
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings, SettingsRecord, apply_update

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
T0 = 1_700_000_000.0


def record(guild: GuildId, version: int, volume: int = 100, by: str = "admin") -> SettingsRecord:
    return SettingsRecord(
        guild_id=guild,
        version=version,
        settings=ServerSettings(default_volume=volume),
        updated_at=T0 + version,
        updated_by=by,
    )


async def test_unknown_guild_has_no_settings_and_no_history(stores: Stores) -> None:
    assert await stores.settings.get(GUILD) is None
    assert await stores.settings.history(GUILD) == []
    await stores.settings.ping()


async def test_create_then_update_round_trips_every_field(stores: Stores) -> None:
    rich = ServerSettings(
        queue_limit=500,
        dj_role_ids=(RoleId(123_456_789_012_345_678),),
        region=Region.EU,
        webhook_export_url="https://hooks.example/abc",
        webhook_export_events=("track_started",),
        branding_color="#112233",
    )
    first = apply_update(None, 0, rich, now=T0, actor="panel:42", guild_id=GUILD)
    await stores.settings.put(first, 0)
    assert await stores.settings.get(GUILD) == first

    second = apply_update(
        first, 1, attrs.evolve(rich, default_volume=40), now=T0 + 5, actor="bot", guild_id=GUILD
    )
    await stores.settings.put(second, 1)
    assert await stores.settings.get(GUILD) == second
    assert await stores.settings.history(GUILD) == [second, first]


async def test_stale_base_is_refused_and_leaves_data_untouched(stores: Stores) -> None:
    await stores.settings.put(record(GUILD, 1, 10), 0)
    await stores.settings.put(record(GUILD, 2, 20), 1)

    with pytest.raises(StaleVersion) as created_twice:
        await stores.settings.put(record(GUILD, 1, 99), 0)
    assert (created_twice.value.expected, created_twice.value.current) == (0, 2)

    with pytest.raises(StaleVersion) as stale:
        await stores.settings.put(record(GUILD, 2, 99), 1)
    assert (stale.value.expected, stale.value.current) == (1, 2)

    with pytest.raises(StaleVersion):
        await stores.settings.put(record(GUILD, 6, 99), 5)

    current = await stores.settings.get(GUILD)
    assert current is not None
    assert (current.version, current.settings.default_volume) == (2, 20)
    assert [r.version for r in await stores.settings.history(GUILD)] == [2, 1]


async def test_update_of_a_guild_that_has_none_is_stale(stores: Stores) -> None:
    with pytest.raises(StaleVersion) as stale:
        await stores.settings.put(record(GUILD, 4, 50), 3)
    assert stale.value.current == 0
    assert await stores.settings.get(GUILD) is None


async def test_record_must_be_one_past_its_base(stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        await stores.settings.put(record(GUILD, 3), 0)
    assert await stores.settings.get(GUILD) is None


async def test_history_is_newest_first_limited_and_per_guild(stores: Stores) -> None:
    for version in range(1, 8):
        await stores.settings.put(record(GUILD, version, version), version - 1)
    await stores.settings.put(record(OTHER, 1, 77), 0)

    latest = await stores.settings.history(GUILD, limit=3)
    assert [r.version for r in latest] == [7, 6, 5]
    assert [r.settings.default_volume for r in latest] == [7, 6, 5]
    assert len(await stores.settings.history(GUILD, limit=100)) == 7
    assert [r.version for r in await stores.settings.history(OTHER)] == [1]
    other = await stores.settings.get(OTHER)
    assert other is not None and other.settings.default_volume == 77


async def test_concurrent_writers_have_one_winner_per_version_and_lose_nothing(
    stores: Stores,
) -> None:
    writers = 50
    conflicts = 0

    async def increment(task: int) -> None:
        nonlocal conflicts
        while True:
            current = await stores.settings.get(GUILD)
            base = 0 if current is None else current.version
            volume = 0 if current is None else current.settings.default_volume + 1
            new = apply_update(
                current,
                base,
                ServerSettings(default_volume=min(volume, 200)),
                now=T0 + task,
                actor=f"writer-{task}",
                guild_id=GUILD,
            )
            try:
                await stores.settings.put(new, base)
            except StaleVersion:
                conflicts += 1
                await anyio.lowlevel.checkpoint()
                continue
            return

    with anyio.fail_after(90):
        async with anyio.create_task_group() as group:
            for task in range(writers):
                group.start_soon(increment, task)

    history = await stores.settings.history(GUILD, limit=1000)
    assert [r.version for r in history] == list(range(writers, 0, -1))
    assert sorted(r.updated_by for r in history) == sorted(f"writer-{t}" for t in range(writers))
    assert [r.settings.default_volume for r in reversed(history)] == list(range(writers))
    final = await stores.settings.get(GUILD)
    assert final is not None and final.version == writers
