"""The bot's erasure catch-up against the panel's real bridge app (in process, over ASGI): every
erasure in the record is applied once, in order, across restarts (the ledger in BOT_DATA_DIR),
whichever way it arrives (the record read at start or later, the long poll's page, a pushed
notice); one that fails here is retried until it succeeds and its guild's file is not served
meanwhile; a record that cannot be read is said in `status` and read again; a fresh bot owes
nothing to the erasures placed before it started."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from tests.unit.test_bot_settings_sync import TOKEN, Clock, Switch
from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import Services, memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.erasure_catchup import LEDGER_FILE, BridgeErasureRecord, ErasureCatchUp
from vectobeat_bot.settings_cache import LastKnownSettings
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.dependencies import DependencyState
from vectobeat_core.erasures import ERASURE_PAGE, Erasure
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.settings_flow import announce_erasure

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

A, B, C = GuildId(4101), GuildId(4202), GuildId(4303)
CHANGES = "GET /api/bot/server-settings/changes"
LATER = Clock().now() + 60  # after the bots' start (their clocks read Clock().now())


class FlakyDisk(LastKnownSettings):
    """The last known settings folder, whose deletes fail (a disk error) while ``broken``."""

    broken = False

    async def remove(self, guild_id: GuildId) -> bool:
        if self.broken:
            raise StorageUnavailable("disk error")
        return await super().remove(guild_id)


@attrs.define
class Panel:
    services: Services
    transport: Switch
    app_panel: Any

    async def erase(self, guild: GuildId, at: float = LATER) -> Erasure:
        """What the compliance desk does first: open a deletion and place it in the record."""
        compliance = self.services.compliance
        opened = await compliance.open(
            guild, "delete", requested_by=UserId(7), email="dpo@example.org", now=at
        )
        return await compliance.record_erasure(opened.request_id, at)


@attrs.define
class Bot:
    """One run of the bot's settings side: its sync, its catch-up and what it erased."""

    sync: SettingsSync
    catch_up: ErasureCatchUp
    erased: list[GuildId]


@pytest.fixture
async def panel(tmp_path: Path) -> Panel:
    services = memory_services()
    config = load_config({}, dotenv=tmp_path / "none.env", overrides={"BOT_BRIDGE_TOKEN": TOKEN})
    app = create_app(config, services)
    for guild in (A, B, C):
        await services.guilds.upsert(GuildRecord(guild, "Unit", Tier.PRO, True, 1.0))
    return Panel(services, Switch(app), app.state.panel)


@pytest.fixture
async def bridge(panel: Panel) -> AsyncIterator[BridgeClient]:
    async with BridgeClient("http://panel.test", TOKEN, transport=panel.transport) as client:
        yield client


def start_bot(panel: Panel, bridge: BridgeClient, data: Path, **sync: Any) -> Bot:
    """A bot process's settings side over ``data`` (its BOT_DATA_DIR), as `run_bot` builds it."""
    disk = FlakyDisk(data / "settings")
    settings = SettingsSync(
        bridge=bridge,
        channel=sync.pop("channel", None),
        catalogue=panel.services.catalogue,
        clock=Clock(),
        last_known=disk,
        **sync,
    )
    erased: list[GuildId] = []

    async def player_service(guild: GuildId) -> None:  # what PlayerService.erase is told
        erased.append(guild)

    settings.listen_erasure(player_service)
    catch_up = ErasureCatchUp(BridgeErasureRecord(bridge), settings.erase, data, Clock())
    settings.follow_erasures(catch_up)
    return Bot(settings, catch_up, erased)


def state(bot: Bot) -> DependencyState:
    """The bot's ``erasure_record`` dependency state now."""
    return bot.catch_up.status.state


def files(data: Path) -> set[str]:
    return {p.name for p in (data / "settings").glob("*.json")}


def ledger(data: Path) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((data / LEDGER_FILE).read_bytes())
    return raw


async def test_each_erasure_is_applied_once_across_restarts(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    older = await panel.erase(C, at=Clock().now() - 60)  # before this bot ever started
    first = start_bot(panel, bridge, tmp_path)
    assert not first.catch_up.load()
    await first.catch_up.start(fresh=True)  # nothing here yet: older erasures are not its
    assert first.erased == [] and first.catch_up.cursor == older.seq
    for guild in (A, B, C):
        await first.sync.get(guild)
    assert files(tmp_path) == {f"{g}.json" for g in (A, B, C)}
    assert ledger(tmp_path) == {
        "format": 1,
        "ledger": {"cursor": older.seq, "since": Clock().now()},
    }

    # the bot is down while A is erased; its next start applies it before reading its files
    await panel.erase(A)
    second = start_bot(panel, bridge, tmp_path)
    assert second.catch_up.load()
    await second.catch_up.start(fresh=False)
    assert second.erased == [A] and files(tmp_path) == {f"{B}.json", f"{C}.json"}
    assert second.sync.load_last_known() == 2
    assert ledger(tmp_path)["ledger"]["cursor"] == 2
    assert state(second) is DependencyState.UP

    # restarted again: the ledger says A is done, nothing is applied twice
    third = start_bot(panel, bridge, tmp_path)
    third.catch_up.load()
    await third.catch_up.start(fresh=False)
    assert third.erased == [] and third.catch_up.cursor == 2

    # B's erasure arrives every way at once: applied once
    placed = await panel.erase(B)
    await third.catch_up.notice(B, placed.seq)
    await third.catch_up.take([placed])
    assert await third.catch_up.catch_up() == 0
    await third.catch_up.notice(B, placed.seq)
    assert third.erased == [B] and files(tmp_path) == {f"{C}.json"}
    assert third.catch_up.ledger.ahead == frozenset() and third.catch_up.cursor == placed.seq


async def test_a_notice_ahead_of_the_record_is_not_applied_again_when_the_record_is_read(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    bot = start_bot(panel, bridge, tmp_path)
    await bot.catch_up.start(fresh=True)
    first, second = await panel.erase(A), await panel.erase(B)
    await bot.catch_up.notice(B, second.seq)  # pushed before the record was read past A
    assert bot.catch_up.ledger.ahead == {second.seq} and bot.catch_up.cursor == 0
    assert await bot.catch_up.catch_up() == 1
    assert bot.erased == [B, A] and bot.catch_up.cursor == second.seq
    assert first.seq < second.seq and bot.catch_up.ledger.ahead == frozenset()
    restarted = start_bot(panel, bridge, tmp_path)
    restarted.catch_up.load()
    await restarted.catch_up.start(fresh=False)
    assert restarted.erased == []


async def test_an_erasure_that_fails_here_is_retried_and_its_file_is_never_served(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    bot = start_bot(panel, bridge, tmp_path)
    await bot.catch_up.start(fresh=True)
    for guild in (A, B):
        await bot.sync.get(guild)
    disk = bot.sync._disk
    assert isinstance(disk, FlakyDisk)
    disk.broken = True
    await panel.erase(A)
    await panel.erase(B)
    assert await bot.catch_up.catch_up() == 0  # both read, neither could be erased here
    assert [e.guild_id for e in bot.catch_up.ledger.retry] == [A, B]
    assert bot.catch_up.cursor == 2  # later erasures are not held up by a failed one
    status = bot.catch_up.status
    assert status.state is DependencyState.DEGRADED and f"{A}" in (status.detail or "")
    assert files(tmp_path) == {f"{A}.json", f"{B}.json"}
    assert bot.sync.cached(A) is None  # not served from memory ...

    # ... nor from disk after a restart with the disk still failing: the retry comes first
    panel.transport.down = True  # and the panel is down: the file would be all there is
    restarted = start_bot(panel, bridge, tmp_path)
    restarted.catch_up.load()
    restarted_disk = restarted.sync._disk
    assert isinstance(restarted_disk, FlakyDisk)
    restarted_disk.broken = True
    await restarted.catch_up.start(fresh=False)
    assert state(restarted) is DependencyState.DOWN  # the record cannot be read
    assert restarted.sync.load_last_known() == 0
    held = await restarted.sync.get(A)
    assert held.version == 0 and not restarted.sync.is_last_known(A)  # the Free defaults

    restarted_disk.broken = False
    panel.transport.down = False
    assert await restarted.catch_up.catch_up() == 2
    assert restarted.catch_up.ledger.retry == () and files(tmp_path) == set()
    assert state(restarted) is DependencyState.UP
    assert restarted.erased == [A, B, A, B]  # the first tries, then the retries


async def test_a_record_that_cannot_be_read_at_start_is_read_by_run_with_back_off(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    first = start_bot(panel, bridge, tmp_path)
    await first.catch_up.start(fresh=True)
    await first.sync.get(A)
    await panel.erase(A)
    panel.transport.down = True
    bot = start_bot(panel, bridge, tmp_path)
    bot.catch_up.load()
    await bot.catch_up.start(fresh=False)
    assert state(bot) is DependencyState.DOWN
    assert "cannot be reached" in (bot.catch_up.status.detail or "")
    bot.sync.load_last_known()
    await bot.sync.get(A)
    assert bot.sync.is_last_known(A)  # served from disk: the erasure is not known here yet
    async with anyio.create_task_group() as tasks:
        await tasks.start(bot.catch_up.run)
        panel.transport.down = False
        with anyio.fail_after(20):
            while state(bot) is not DependencyState.UP:  # noqa: ASYNC110
                await anyio.sleep(0.02)
        tasks.cancel_scope.cancel()
    assert bot.erased == [A] and files(tmp_path) == set()
    assert bot.sync.cached(A) is None and not bot.sync.is_last_known(A)


async def test_the_long_poll_carries_the_record_so_an_erasure_run_elsewhere_arrives(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    bot = start_bot(panel, bridge, tmp_path, poll_timeout=0.3)
    await bot.catch_up.start(fresh=True)
    await bot.sync.get(A)
    async with anyio.create_task_group() as tasks:
        await tasks.start(bot.sync.run)
        with anyio.fail_after(10):
            while CHANGES not in panel.transport.requests:  # noqa: ASYNC110 - the first poll
                await anyio.sleep(0.02)
        before = len(panel.transport.requests)
        await panel.erase(A)  # placed by another replica: this panel's feed never hears of it
        with anyio.fail_after(10):
            while f"{A}.json" in files(tmp_path):  # noqa: ASYNC110 - deleted in a thread
                await anyio.sleep(0.02)
        tasks.cancel_scope.cancel()
    assert bot.erased == [A] and bot.catch_up.cursor == 1
    assert "GET /api/bot/erasures" not in panel.transport.requests[before:]  # with a poll


async def test_a_full_page_in_the_long_poll_wakes_the_catch_up_for_the_rest(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    bot = start_bot(panel, bridge, tmp_path)
    await bot.catch_up.start(fresh=True)
    placed = [await panel.erase(GuildId(5000 + n)) for n in range(ERASURE_PAGE + 3)]
    await bot.catch_up.take(placed[:ERASURE_PAGE])
    assert bot.catch_up.cursor == ERASURE_PAGE
    async with anyio.create_task_group() as tasks:
        await tasks.start(bot.catch_up.run)
        with anyio.fail_after(10):
            while bot.catch_up.cursor < placed[-1].seq:  # noqa: ASYNC110
                await anyio.sleep(0.02)
        tasks.cancel_scope.cancel()
    assert bot.erased == [e.guild_id for e in placed]


async def test_a_pushed_notice_with_its_place_is_applied_once(
    panel: Panel, bridge: BridgeClient, tmp_path: Path
) -> None:
    channel = panel.services.settings_channel
    bot = start_bot(panel, bridge, tmp_path, channel=channel)
    await bot.catch_up.start(fresh=True)
    await bot.sync.get(A)
    placed = await panel.erase(A)
    async with anyio.create_task_group() as tasks:
        await tasks.start(bot.sync.run)
        with anyio.fail_after(10):
            while not bot.erased:
                await announce_erasure(panel.app_panel, placed)  # until the follower listens
                await anyio.sleep(0.05)
        for _ in range(3):
            await announce_erasure(panel.app_panel, placed)
        await bot.catch_up.catch_up()
        tasks.cancel_scope.cancel()
    assert bot.erased == [A] and bot.catch_up.cursor == placed.seq
