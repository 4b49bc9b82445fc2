"""An erasure notice reaches the bot's settings sync by both ways the panel tells bots (the
bridge's long poll, and the settings channel when Redis is configured): the erasure listeners
run, then the guild's cached settings and its last known settings file are gone. Another
guild's are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.unit.test_bot_settings_sync import TOKEN, Clock, Switch
from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.settings_cache import LastKnownSettings
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.erasures import Erasure
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.settings_flow import announce_erasure

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ERASED, KEPT = GuildId(4242), GuildId(4343)


@pytest.mark.parametrize("mode", ["longpoll", "pubsub"])
async def test_an_erasure_notice_drops_the_guild_and_its_file(mode: str, tmp_path: Path) -> None:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app = create_app(config, services)
    panel: Any = app.state.panel
    for guild in (ERASED, KEPT):
        await services.guilds.upsert(GuildRecord(guild, "Unit", Tier.PRO, True, 1.0))
    folder = tmp_path / "settings"
    erased: list[GuildId] = []
    done = anyio.Event()

    async def listener(guild: GuildId) -> None:
        assert sync.cached(guild) is not None  # listeners run before the settings go
        erased.append(guild)
        done.set()

    async with BridgeClient("http://panel.test", TOKEN, transport=Switch(app)) as bridge:
        sync = SettingsSync(
            bridge=bridge,
            channel=services.settings_channel if mode == "pubsub" else None,
            catalogue=services.catalogue,
            clock=Clock(),
            poll_timeout=5.0,
            last_known=LastKnownSettings(folder),
        )
        sync.listen_erasure(listener)
        assert sync.mode == mode
        for guild in (ERASED, KEPT):
            await sync.get(guild)
        assert {p.name for p in folder.glob("*.json")} == {f"{ERASED}.json", f"{KEPT}.json"}
        async with anyio.create_task_group() as tasks:
            await tasks.start(sync.run)
            with anyio.fail_after(10):
                # the follower may not listen yet: repeat the notice until it is heard
                while not done.is_set():
                    await announce_erasure(panel, Erasure(1, ERASED, 1.0))
                    with anyio.move_on_after(0.2):
                        await done.wait()
                while (folder / f"{ERASED}.json").exists():  # noqa: ASYNC110 - deleted in a thread
                    await anyio.sleep(0.01)
            tasks.cancel_scope.cancel()
    assert erased[0] == ERASED and set(erased) == {ERASED}
    assert sync.cached(ERASED) is None and sync.cached(KEPT) is not None
    assert {p.name for p in folder.glob("*.json")} == {f"{KEPT}.json"}
