"""Last known settings kept on the bot's disk: written atomically on each applied change, served
(with their plan and pinned region) after a restart while the panel is down, replaced when it
answers again; a damaged file is reported and left in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_bot_settings_sync import GUILD, TOKEN, Clock, Switch
from vectobeat_adapters.atomic_file import write_atomically
from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.cogs.settings import freshness
from vectobeat_bot.settings_cache import CachedSettings, LastKnownSettings
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.errors import BridgeUnavailable, InvalidInput, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings, SettingsRecord
from vectobeat_panel.app import create_app

pytestmark = pytest.mark.anyio


async def test_restart_with_the_panel_down_serves_the_last_known_plan_and_region(
    tmp_path: Path,
) -> None:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app = create_app(config, services)
    await services.guilds.upsert(GuildRecord(GUILD, "Unit", Tier.GROWTH, True, 1.0))
    await services.settings.put(
        SettingsRecord(GUILD, 1, ServerSettings(region=Region.US, queue_limit=700), 1.0, "t"), 0
    )
    transport, clock, disk = Switch(app), Clock(), LastKnownSettings(tmp_path / "settings")
    async with BridgeClient("http://panel.test", TOKEN, transport=transport) as bridge:
        first = SettingsSync(
            bridge=bridge, channel=None, catalogue=services.catalogue, clock=clock, last_known=disk
        )
        held = await first.get(GUILD)
        assert not first.is_last_known(GUILD)
        fetched_at = held.fetched_at
        assert (tmp_path / "settings" / f"{GUILD}.json").is_file()

        transport.down = True
        clock.t += 180
        second = SettingsSync(
            bridge=bridge, channel=None, catalogue=services.catalogue, clock=clock, last_known=disk
        )
        known = await second.get(GUILD)
        assert (known.version, known.plan.tier, known.settings.queue_limit) == (1, Tier.GROWTH, 700)
        assert known.decision.effective is Region.US
        assert known.fetched_at == fetched_at and second.is_last_known(GUILD)
        note = freshness(known, second.state(), last_known=True, now=clock.now())
        assert note == "The panel is unreachable: these are the last known settings from 3 min ago."
        never = second.default(GuildId(7))
        assert "has never sent this server's settings" in str(
            freshness(never, second.state(), last_known=False, now=clock.now())
        )

        await services.settings.put(
            SettingsRecord(GUILD, 2, ServerSettings(region=Region.EU), 2.0, "t"), 1
        )
        transport.down = False
        await second.resync_last_known()
        assert not second.is_last_known(GUILD)
        now_held = await second.get(GUILD)
        assert now_held.version == 2 and now_held.decision.effective is Region.EU
        stored = json.loads((tmp_path / "settings" / f"{GUILD}.json").read_bytes())
        assert stored["version"] == 2 and stored["settings"]["region"] == "eu"


async def test_a_damaged_entry_is_skipped_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "settings"
    folder.mkdir()
    (folder / "5.json").write_text("{not json")
    good = CachedSettings(GuildId(6), 3, Tier.PRO, ServerSettings(), 1.0)
    (folder / "6.json").write_bytes(good.encode())
    (folder / "8.json").write_bytes(good.encode())  # names another guild than its content
    found = LastKnownSettings(folder).load_all()
    assert found == {GuildId(6): good}
    assert (folder / "5.json").read_text() == "{not json"
    assert caplog.text.count("settings_cache_entry_skipped") == 2


@given(
    st.integers(1, 2**63 - 1),
    st.integers(0, 10**6),
    st.sampled_from(list(Tier)),
    st.sampled_from(list(Region)),
    st.floats(0, 2e9, allow_nan=False),
)
def test_entries_round_trip(
    guild: int, version: int, tier: Tier, region: Region, fetched_at: float
) -> None:
    entry = CachedSettings(GuildId(guild), version, tier, ServerSettings(region=region), fetched_at)
    assert CachedSettings.decode(entry.encode()) == entry


@pytest.mark.parametrize(
    "raw",
    [b"[]", b'{"format": 2}', b'{"format": 1, "guild_id": "x"}',
     b'{"format": 1, "guild_id": "1", "version": -1, "fetched_at": 1, "settings": {}}',
     b'{"format": 1, "guild_id": "1", "version": 1, "fetched_at": "a", "settings": {}}',
     b'{"format": 1, "guild_id": "1", "version": 1, "fetched_at": 1, "settings": [], "tier": "pro"}',
     b'{"format": 1, "guild_id": "1", "version": 1, "fetched_at": 1, "settings": {}, "tier": "gold"}'],
)  # fmt: skip
def test_bad_entries_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        CachedSettings.decode(raw)


def test_write_atomically_replaces_and_reports(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomically(target, b"one")
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]  # no temporary left
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(StorageUnavailable, match="Cannot write"):
        write_atomically(blocker / "x.json", b"x")


async def test_a_failed_write_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app: Any = create_app(config, services)
    await services.guilds.upsert(GuildRecord(GUILD, "Unit", Tier.PRO, True, 1.0))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    async with BridgeClient("http://panel.test", TOKEN, transport=Switch(app)) as bridge:
        sync = SettingsSync(
            bridge=bridge,
            channel=None,
            catalogue=services.catalogue,
            clock=Clock(),
            last_known=LastKnownSettings(blocker / "settings"),
        )
        held = await sync.get(GUILD)
    assert held.plan.tier is Tier.PRO
    assert "settings_cache_write_failed" in caplog.text


async def test_probe_keeps_the_sync_state_current(tmp_path: Path) -> None:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    transport = Switch(create_app(config, services))
    async with BridgeClient("http://panel.test", TOKEN, transport=transport) as bridge:
        sync = SettingsSync(
            bridge=bridge, channel=None, catalogue=services.catalogue, clock=Clock()
        )
        transport.down = True
        with pytest.raises(BridgeUnavailable):
            await sync.probe()
        assert sync.state().connected is False
        transport.down = False
        await sync.probe()
        assert sync.state().connected is True and sync.last_error is None
        assert transport.requests == ["GET /api/bot/server-settings/changes"]
    off = SettingsSync(bridge=None, channel=None, catalogue=services.catalogue, clock=Clock())
    with pytest.raises(BridgeUnavailable, match="not configured"):
        await off.probe()
