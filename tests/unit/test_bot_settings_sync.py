"""The bot's settings sync client against the panel's real bridge app (in process, over ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import attrs
import httpx
import pytest

from vectobeat_adapters.config import load_config
from vectobeat_adapters.memory.settings import MemorySettingsRepository
from vectobeat_adapters.services import Services, memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_core.errors import BridgeUnavailable, Conflict, OutcomeUnknown
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import SettingsChange
from vectobeat_core.records import GuildRecord
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings, SettingsRecord
from vectobeat_panel.app import create_app

pytestmark = pytest.mark.anyio

TOKEN = "unit-bridge-token-0123456789abcdef0123456789"
GUILD = GuildId(4242)


class Switch(httpx.AsyncBaseTransport):
    """The panel app, or a dead network when ``down``; counts the requests that reached it.

    ``lose`` makes writes time out after they were sent: ``"answer"`` once the panel applied
    them, ``"request"`` before they reached it; ``reads_down`` refuses reads meanwhile."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.down = False
        self.lose: Literal["answer", "request"] | None = None
        self.reads_down = False
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down or (self.reads_down and request.method == "GET"):
            raise httpx.ConnectError("connection refused", request=request)
        if self.lose is not None and request.method != "GET":
            if self.lose == "answer":
                await self.inner.handle_async_request(request)
            raise httpx.ReadTimeout("no answer", request=request)
        self.requests.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        return self.t


@pytest.fixture
async def panel(tmp_path: Any) -> tuple[Services, Switch, Any]:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app = create_app(config, services)
    await services.guilds.upsert(GuildRecord(GUILD, "Unit", Tier.PRO, True, 1.0))
    return services, Switch(app), app.state.panel


@pytest.fixture
async def sync(panel: tuple[Services, Switch, Any]) -> AsyncIterator[SettingsSync]:
    services, transport, _ = panel
    async with BridgeClient("http://panel.test", TOKEN, transport=transport) as bridge:
        yield SettingsSync(bridge=bridge, channel=None, catalogue=services.catalogue, clock=Clock())


async def test_reads_once_and_caches_with_version_and_plan(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await services.settings.put(
        SettingsRecord(GUILD, 1, ServerSettings(queue_limit=300), 1.0, "t"), 0
    )
    held = await sync.get(GUILD)
    assert (held.version, held.plan.tier, held.settings.queue_limit) == (1, Tier.PRO, 300)
    again = await sync.get(GUILD)
    assert again == held
    assert transport.requests == ["GET /api/bot/server-settings"]
    assert sync.state().connected and sync.state().mode == "longpoll"


async def test_a_stale_write_is_re_read_and_reported(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, _, _ = panel
    await sync.get(GUILD)  # holds version 0 (nothing saved yet)
    await services.settings.put(
        SettingsRecord(GUILD, 1, ServerSettings(queue_limit=50), 1.0, "t"), 0
    )
    with pytest.raises(Conflict, match=r"changed in the panel meanwhile \(now version 1\)"):
        await sync.update(GUILD, {"queue_limit": 60})
    held = sync.cached(GUILD)
    assert held is not None and (held.version, held.settings.queue_limit) == (1, 50)
    updated, clamps = await sync.update(GUILD, {"queue_limit": 60})
    assert (updated.version, updated.settings.queue_limit, clamps) == (2, 60, ())


async def test_writes_come_back_clamped_with_the_reason(sync: SettingsSync) -> None:
    held, clamps = await sync.update(GUILD, {"region": "eu"})
    assert held.settings.region is Region.AUTO and held.decision.effective is Region.AUTO
    assert [c.field for c in clamps] == ["region"]
    assert "Your plan (Pro) plays on auto" in clamps[0].reason
    assert clamps[0].required_tier is Tier.GROWTH


async def test_unreachable_panel_keeps_the_last_known_settings(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await services.settings.put(
        SettingsRecord(GUILD, 1, ServerSettings(queue_limit=300), 1.0, "t"), 0
    )
    known = await sync.get(GUILD)
    transport.down = True
    with pytest.raises(BridgeUnavailable, match="cannot be reached"):
        await sync.refresh(GUILD)
    assert await sync.get(GUILD) == known
    assert not sync.state().connected
    other = await sync.get(GuildId(99))  # never fetched: free defaults, said to be unsynced
    assert other.version == 0 and other.plan.tier is Tier.FREE and other.fetched_at is None
    transport.down = False
    assert (await sync.refresh(GUILD)).version == 1 and sync.state().connected


async def test_only_newer_versions_are_applied(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await services.settings.put(SettingsRecord(GUILD, 1, ServerSettings(), 1.0, "t"), 0)
    applied: list[GuildSettings] = []

    async def listener(held: GuildSettings) -> None:
        applied.append(held)

    sync.listen(listener)
    await sync.get(GUILD)
    before = len(transport.requests)
    await sync._apply_change(SettingsChange(GUILD, 1))  # not newer: no request at all
    assert len(transport.requests) == before
    await services.settings.put(
        SettingsRecord(GUILD, 2, ServerSettings(collaborative_queue=False), 2.0, "t"), 1
    )
    await sync._apply_change(SettingsChange(GUILD, 2))
    held = sync.cached(GUILD)
    assert held is not None and held.version == 2 and not held.settings.collaborative_queue
    assert [h.version for h in applied] == [1, 2]


async def test_without_a_bridge_sync_is_off(panel: tuple[Services, Switch, Any]) -> None:
    services, _, _ = panel
    sync = SettingsSync(bridge=None, channel=None, catalogue=services.catalogue, clock=Clock())
    assert sync.state().mode == "off"
    assert (await sync.get(GUILD)).plan.tier is Tier.FREE
    with pytest.raises(BridgeUnavailable, match="not configured"):
        await sync.update(GUILD, {"queue_limit": 5})


async def test_a_change_carrying_its_state_is_applied_without_a_request(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await services.settings.put(SettingsRecord(GUILD, 1, ServerSettings(), 1.0, "t"), 0)
    await sync.get(GUILD)
    before = len(transport.requests)
    state: dict[str, Any] = {
        "guild_id": str(GUILD),
        "version": 2,
        "plan": "pro",
        "settings": ServerSettings(default_volume=42).to_json(),
    }
    await services.settings.put(
        SettingsRecord(GUILD, 2, ServerSettings(default_volume=42), 2.0, "t"), 1
    )
    await sync._apply_change(SettingsChange(GUILD, 2, state))
    held = sync.cached(GUILD)
    assert held is not None and held.version == 2 and held.settings.default_volume == 42
    assert len(transport.requests) == before  # applied from the message itself

    # an unreadable state is not trusted: the bot reads the guild from the bridge instead
    await services.settings.put(
        SettingsRecord(GUILD, 3, ServerSettings(default_volume=7), 3.0, "t"), 2
    )
    broken = {**state, "version": 3, "settings": {"default_volume": "loud"}}
    await sync._apply_change(SettingsChange(GUILD, 3, broken))
    held = sync.cached(GUILD)
    assert held is not None and held.version == 3 and held.settings.default_volume == 7
    assert transport.requests[before:] == ["GET /api/bot/server-settings"]


async def test_a_write_whose_answer_was_lost_is_re_read_and_reported_applied(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await sync.get(GUILD)
    transport.lose = "answer"  # the panel stored it; the bot never heard back
    held, clamps = await sync.update(GUILD, {"region": "eu", "queue_limit": 70})
    assert (held.version, held.settings.queue_limit, held.settings.region) == (1, 70, Region.AUTO)
    assert [c.field for c in clamps] == ["region"]  # clamped by the plan, as the panel did
    stored = await services.settings.get(GUILD)
    assert stored is not None and stored.version == 1


async def test_a_write_that_never_arrived_is_not_confirmed_rather_than_failed(
    panel: tuple[Services, Switch, Any], sync: SettingsSync
) -> None:
    services, transport, _ = panel
    await sync.get(GUILD)
    transport.lose = "request"
    with pytest.raises(OutcomeUnknown, match="not confirmed and is not applied so far"):
        await sync.update(GUILD, {"queue_limit": 70})
    assert await services.settings.get(GUILD) is None
    transport.reads_down = True  # and when the re-read fails too, it says so
    with pytest.raises(OutcomeUnknown, match="sent but not confirmed yet"):
        await sync.update(GUILD, {"queue_limit": 70})


async def test_a_write_the_panel_could_not_confirm_is_re_read(
    panel: tuple[Services, Switch, Any], tmp_path: Any
) -> None:
    """The panel's database timed out on the write (503, outcome unknown): the bot re-reads."""
    services, _, _ = panel

    class Unconfirmed(MemorySettingsRepository):
        async def put(self, record: SettingsRecord, expected_version: int) -> None:
            raise OutcomeUnknown("The change was not confirmed: the database did not answer.")

    stuck = attrs.evolve(services, settings=Unconfirmed())
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    transport = Switch(create_app(config, stuck))
    answer = await transport.handle_async_request(
        httpx.Request(
            "PUT",
            f"http://panel.test/api/bot/server-settings?guild_id={GUILD}",
            headers={"authorization": f"Bearer {TOKEN}"},
            json={"version": 0, "settings": {"queue_limit": 70}},
        )
    )
    await answer.aread()
    assert answer.status_code == 503 and answer.json()["outcome"] == "unknown"
    async with BridgeClient("http://panel.test", TOKEN, transport=transport) as bridge:
        sync = SettingsSync(bridge=bridge, channel=None, catalogue=stuck.catalogue, clock=Clock())
        with pytest.raises(OutcomeUnknown, match="not applied so far"):
            await sync.update(GUILD, {"queue_limit": 70})


async def test_a_write_that_could_not_connect_failed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with BridgeClient("http://panel.test", TOKEN, transport=httpx.MockTransport(refuse)) as b:
        with pytest.raises(BridgeUnavailable, match="cannot be reached"):
            await b.request("PUT", "/api/bot/server-settings", json={})
