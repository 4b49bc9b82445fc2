"""The window while an erasure runs: the bot applied the erasure, but a settings answer from
before it (read while the panel has not erased its stores yet, or already in flight) arrives
after. It is never cached, saved to the last known settings file, served or announced: it reads
as no settings (the defaults, on the guild's plan), also from disk after a restart. Settings
stored after the erasure (the guild uses the bot anew) are kept as usual."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.unit.test_bot_settings_sync import TOKEN, Clock, Switch
from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import Services, memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.erasure_catchup import BridgeErasureRecord, ErasureCatchUp
from vectobeat_bot.settings_cache import CachedSettings, LastKnownSettings
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_core.erasures import Erasure
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_core.settings import ServerSettings
from vectobeat_panel.app import create_app
from vectobeat_panel.settings_flow import save_settings
from vectobeat_panel.state import Panel

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

GUILD = GuildId(4242)
T0 = Clock().now()  # the old settings are stored then; the bot starts then too
ERASED_AT = T0 + 60


class Gate(Switch):
    """`Switch` that holds the answer to the next settings read until ``release`` is set."""

    def __init__(self, app: object) -> None:
        super().__init__(app)
        self.hold = False
        self.reached = anyio.Event()
        self.release = anyio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await super().handle_async_request(request)
        if self.hold and request.url.path == "/api/bot/server-settings":
            self.hold = False
            self.reached.set()
            await self.release.wait()  # answered from the old settings, delivered later
        return answer


class Desk:
    """The panel side: its settings flow on a clock the test sets, and the erasure record."""

    def __init__(self, services: Services, panel: Panel, clock: list[float]) -> None:
        self.services, self.panel, self.clock = services, panel, clock

    async def save(self, at: float, volume: int, base: int) -> None:
        self.clock[0] = at
        await save_settings(
            self.panel, GUILD, base_version=base, patch={"default_volume": volume}, actor="t"
        )

    async def record_erasure(self) -> Erasure:
        """The desk's first step; the stores are erased only after the bots were told."""
        opened = await self.services.compliance.open(
            GUILD, "delete", requested_by=UserId(7), email="dpo@example.org", now=ERASED_AT
        )
        return await self.services.compliance.record_erasure(opened.request_id, ERASED_AT)


def start_bot(
    bridge: BridgeClient, services: Services, data: Path
) -> tuple[SettingsSync, ErasureCatchUp, list[GuildSettings]]:
    sync = SettingsSync(
        bridge=bridge,
        channel=None,
        catalogue=services.catalogue,
        clock=Clock(),
        last_known=LastKnownSettings(data / "settings"),
    )
    applied: list[GuildSettings] = []

    async def listener(held: GuildSettings) -> None:
        applied.append(held)

    sync.listen(listener)
    catch_up = ErasureCatchUp(BridgeErasureRecord(bridge), sync.erase, data, Clock())
    sync.follow_erasures(catch_up)
    return sync, catch_up, applied


def on_disk(data: Path) -> CachedSettings | None:
    path = data / "settings" / f"{GUILD}.json"
    return CachedSettings.decode(path.read_bytes()) if path.exists() else None


def is_defaults(held: GuildSettings | None) -> bool:
    return held is not None and held.version == 0 and held.settings == ServerSettings()


@pytest.mark.parametrize("how", ["read again", "in flight"])
async def test_settings_from_before_the_erasure_never_come_back(how: str, tmp_path: Path) -> None:
    services = memory_services()
    clock = [T0]
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app = create_app(config, services, clock=lambda: clock[0])
    desk = Desk(services, app.state.panel, clock)
    await services.guilds.upsert(GuildRecord(GUILD, "Unit", Tier.PRO, True, 1.0))
    await desk.save(T0, 150, base=0)
    gate = Gate(app)
    async with BridgeClient("http://panel.test", TOKEN, transport=gate) as bridge:
        sync, catch_up, applied = start_bot(bridge, services, tmp_path)
        await catch_up.start(fresh=True)
        assert (await sync.get(GUILD)).settings.default_volume == 150
        erasure = await desk.record_erasure()
        async with anyio.create_task_group() as tasks:
            if how == "in flight":  # a re-read sent before the notice, answered after it
                gate.hold = True
                tasks.start_soon(sync.refresh, GUILD)
                await gate.reached.wait()
            await catch_up.notice(GUILD, erasure.seq, erasure.erased_at)
            assert sync.cached(GUILD) is None and on_disk(tmp_path) is None
            gate.release.set()
        # the panel has not erased its stores yet: a command re-reads the old settings
        held = await sync.get(GUILD)
        assert is_defaults(held) and held.plan.tier is Tier.PRO
        assert is_defaults(sync.cached(GUILD))
        stored = on_disk(tmp_path)
        assert stored is None or stored.version == 0
        assert all(a.settings.default_volume != 150 for a in applied[1:])

        gate.down = True  # and the panel is unreachable: nothing old is served from disk
        restarted, again, _ = start_bot(bridge, services, tmp_path)
        assert again.load()
        await again.start(fresh=False)
        assert restarted.load_last_known() in (0, 1)
        assert is_defaults(await restarted.get(GUILD))
        gate.down = False

        await desk.save(ERASED_AT + 5, 80, base=1)  # the guild uses the bot anew
        for bot in (sync, restarted):
            fresh = await bot.refresh(GUILD)
            assert fresh.version == 2 and fresh.settings.default_volume == 80
            assert bot.cached(GUILD) == fresh
        kept = on_disk(tmp_path)
        assert kept is not None and kept.version == 2 and kept.updated_at == ERASED_AT + 5
