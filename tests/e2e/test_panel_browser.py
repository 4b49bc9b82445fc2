"""The panel in a real browser (Playwright driving Debian's Chromium): sign in through the fake
Discord's OAuth2, pick a guild, change the queue limit and the region, see the clamp explanation on
a Pro guild, see the nodes page; a bot following the settings channel and the bridge's long poll
receives the new version. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest
import uvicorn

from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.services import Services, memory_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.chart import Sample
from vectobeat_testkit.discord import ADMINISTRATOR, FakeDiscord, UserGuild

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BRIDGE_TOKEN = "e2e-bridge-token-" + "z" * 32
PRO, GROWTH, MEMBER = 710_000_000_000_000_001, 710_000_000_000_000_002, 710_000_000_000_000_003
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.anyio]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@attrs.define
class Stack:
    url: str
    services: Services
    fake: FakeDiscord


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    _need_chromium()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with FakeDiscord(redirect_uris=[f"{url}/auth/callback"]) as fake:
        alice = fake.add_user("alice")
        fake.set_oauth_user(
            alice,
            [
                UserGuild(GuildId(PRO), "Pro Guild", owner=True),
                UserGuild(GuildId(GROWTH), "Growth Guild", permissions=ADMINISTRATOR),
                UserGuild(GuildId(MEMBER), "Member Only", permissions=0),
            ],
        )
        services = memory_services()
        now = services.clock.now()
        for gid, name, tier in (
            (PRO, "Pro Guild", Tier.PRO),
            (GROWTH, "Growth Guild", Tier.GROWTH),
        ):
            await services.guilds.upsert(GuildRecord(GuildId(gid), name, tier, True, now))
        for name, status, latency in (
            ("us-1", NodeStatus.UP, 18.0),
            ("eu-1", NodeStatus.DOWN, None),
        ):
            health = NodeHealth(
                node=NodeName(name), status=status, last_latency_ms=latency,
                last_check_at=now, last_failover_at=now - 300 if latency is None else None,
                since=now - 600,
            )  # fmt: skip
            await services.health.put(health, ttl=3600)
        config = AppConfig(
            discord_api_base=fake.api_base,
            discord_client_id=str(fake.world.application_id),
            discord_client_secret=Secret("fake-client-secret"),
            bot_bridge_token=Secret(BRIDGE_TOKEN),
            session_secret=Secret("e2e-session-secret-" + "q" * 32),
            panel_url=url,
            lavalink_nodes="us:us-1:http://127.0.0.1:9:pw,eu:eu-1:http://127.0.0.1:10:pw",
        )
        app = create_app(config, services)
        history = app.state.panel.history
        for minute in range(60, 0, -1):
            at = now - minute * 60
            history.record("us-1", Sample(at, 10 + minute % 7, 15.0 + minute % 11))
            down = 5 < minute < 9
            history.record(
                "eu-1", Sample(at, 0 if down else 4 + minute % 3, None if down else 40.0)
            )
        stats: JSON = {"players": 12, "playingPlayers": 9, "uptime": 1, "memory": {"used": 1,
                 "free": 1, "allocated": 1, "reservable": 1}, "cpu": {"cores": 4,
                 "systemLoad": 0.2, "lavalinkLoad": 0.1}}  # fmt: skip
        await services.telemetry.put("lavalink-stats:us-1", stats, 3600)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", access_log=False)
        )
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: server.serve(sockets=[sock]))
            with anyio.fail_after(10):
                while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
                    await anyio.sleep(0.02)
            yield Stack(url, services, fake)
            server.should_exit = True
    sock.close()


async def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_panel_in_chromium(stack: Stack) -> None:
    from playwright.async_api import async_playwright, expect

    applied: dict[str, list[tuple[int, int]]] = {"pubsub": [], "longpoll": []}
    both = anyio.Event()

    def recorder(mode: str) -> Any:
        async def record(held: GuildSettings) -> None:
            if held.version == 0:  # the follower's own resync on (re)subscribing
                return
            applied[mode].append((held.guild_id, held.version))
            if all(len(v) >= 2 for v in applied.values()):
                both.set()

        return record

    bot = httpx.AsyncClient(base_url=stack.url, headers={"authorization": f"Bearer {BRIDGE_TOKEN}"})
    bridges = [BridgeClient(stack.url, BRIDGE_TOKEN), BridgeClient(stack.url, BRIDGE_TOKEN)]
    async with (
        anyio.create_task_group() as tasks,
        bot,
        bridges[0] as via_pubsub,
        bridges[1] as via_poll,
        async_playwright() as pw,
    ):
        # two bots: one follows the settings channel, one the bridge's long poll
        for mode, bridge, channel in (
            ("pubsub", via_pubsub, stack.services.settings_channel),
            ("longpoll", via_poll, None),
        ):
            sync = SettingsSync(
                bridge=bridge, channel=channel, catalogue=stack.services.catalogue,
                clock=stack.services.clock, poll_timeout=2.0, retry_delay=0.2,
            )  # fmt: skip
            sync.listen(recorder(mode))
            for gid in (PRO, GROWTH):
                assert (await sync.get(GuildId(gid))).version == 0
            await tasks.start(sync.run)
        await anyio.sleep(0.3)  # both followers are subscribed / polling
        cursor = (await bot.get("/api/bot/server-settings/changes?timeout=0")).json()["cursor"]
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        await page.goto(f"{stack.url}/guilds")
        await expect(page.locator("#login")).to_be_visible()
        await _shot(page, "01-login")
        await page.click("#login")
        await page.wait_for_url(f"{stack.url}/guilds")
        await expect(page.locator("h1")).to_have_text("Your guilds")
        await expect(page.locator("li.guild")).to_have_count(2)  # not the member-only guild
        await _shot(page, "02-guilds")

        # Pro guild: queue limit above the plan is clamped with the reason; eu needs Growth.
        await page.locator(f'li[data-guild="{PRO}"] a', has_text="Manage").click()
        await page.get_by_label("Guild").get_by_role("link", name="Settings").click()
        await expect(page.locator("#plan")).to_have_text("Pro")
        eu = page.locator('#f-region option[value="eu"]')
        await expect(eu).to_be_disabled()
        await expect(eu).to_contain_text("needs Growth")
        await page.fill("#f-queue_limit", "100000")
        await page.select_option("#f-region", "auto")
        await page.click("#save")
        await expect(page.locator("#saved")).to_contain_text("Saved version 1")
        clamp = page.locator('#clamps li[data-field="queue_limit"]')
        await expect(clamp).to_contain_text("above your plan (Pro)")
        await _shot(page, "03-settings-pro-clamped")

        # Growth guild: pin eu and change the queue limit; no clamp; routing shows eu.
        await page.goto(f"{stack.url}/guilds/{GROWTH}/settings")
        await page.fill("#f-queue_limit", "250")
        await page.select_option("#f-region", "eu")
        await page.press("#f-queue_limit", "Enter")  # keyboard submit
        await expect(page.locator("#saved")).to_contain_text("Saved version 1")
        await page.keyboard.press("Tab")
        await expect(page.locator("a.skip")).to_be_focused()  # first stop: skip to content
        await expect(page.locator("#clamps")).to_have_count(0)
        await _shot(page, "04-settings-growth")
        await page.get_by_label("Guild").get_by_role("link", name="Routing").click()
        await expect(page.locator("#effective")).to_contain_text("eu")
        await _shot(page, "05-routing")

        await page.get_by_label("Main").get_by_role("link", name="Nodes").click()
        await expect(page.locator("#nodes tbody tr")).to_have_count(2)
        await expect(page.locator("#nodes")).to_contain_text("down")
        await expect(page.locator("#nodes tbody tr", has_text="us-1")).to_contain_text("12")
        await expect(page.locator("svg.chart")).to_have_count(2)
        await _shot(page, "06-nodes")

        await page.goto(f"{stack.url}/guilds/{GROWTH}/audit")
        await expect(page.locator("table.audit")).to_contain_text("saved settings version 1")
        await _shot(page, "07-audit")
        await page.goto(f"{stack.url}/guilds/{PRO}/tokens")
        await page.fill("#label", "Stream deck")
        await page.click("button.primary")
        await expect(page.locator("#secret")).to_be_visible()
        await _shot(page, "08-tokens")
        assert console_errors == []  # no CSP violations or script errors on the way
        await page.goto(f"{stack.url}/guilds/{MEMBER}/settings")
        await expect(page.locator("h1")).to_contain_text("403")
        await browser.close()

        # the bot side: both followers applied the new versions
        with anyio.fail_after(10):
            await both.wait()
        for mode, seen in applied.items():
            assert set(seen) == {(PRO, 1), (GROWTH, 1)}, mode
        polled = (
            await bot.get(f"/api/bot/server-settings/changes?cursor={cursor}&timeout=1")
        ).json()
        assert {c["guild_id"] for c in polled["changes"]} == {str(PRO), str(GROWTH)}
        fetched = (await bot.get(f"/api/bot/server-settings?guild_id={GROWTH}")).json()
        assert fetched["version"] == 1 and fetched["settings"]["region"] == "eu"
        assert fetched["settings"]["queue_limit"] == 250
        tasks.cancel_scope.cancel()
