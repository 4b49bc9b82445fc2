"""From the panel in Chromium to a REAL bot process: sign in through the fake Discord's OAuth2,
pick a Growth guild, change its queue limit and pin it to eu, save; the bot process
(``python -m vectobeat_bot``, following the panel's long-poll bridge, no Redis) applies the new
settings version: it reports it to the panel, counts it in ``/status`` and answers
``/settings show`` with the new values from its cache."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.conftest import (
    APP_ID,
    BRIDGE_TOKEN,
    LAVALINK_PASSWORD,
    TOKEN,
    BotProcess,
    BotWorld,
    build_catalogue,
    loopback_socket,
    running_bot,
    serve_on,
)

from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import open_services
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region
from vectobeat_panel.app import create_app
from vectobeat_panel.state import PanelOptions
from vectobeat_testkit.discord import FakeDiscord, UserGuild
from vectobeat_testkit.lavalink import FakeLavalinkNode

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(240)]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextlib.asynccontextmanager
async def panel_world(tmp: Path, options: PanelOptions | None = None) -> AsyncIterator[BotWorld]:
    """Fake Discord (OAuth2 redirecting to the panel), fake us/eu nodes, and the panel under
    uvicorn on loopback with its SQLite file database in ``tmp`` (no Redis: the long poll)."""
    sock = loopback_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    catalogue = build_catalogue()
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(sock.close)
        fake = await stack.enter_async_context(
            FakeDiscord(token=TOKEN, application_id=APP_ID, redirect_uris=[f"{url}/auth/callback"])
        )
        nodes: dict[str, FakeLavalinkNode] = {}
        for region in ("us", "eu"):
            nodes[region] = await stack.enter_async_context(
                FakeLavalinkNode(
                    password=LAVALINK_PASSWORD,
                    name=f"{region}-1",
                    region=region,
                    catalogue=catalogue,
                    player_update_interval=0.5,
                    stats_interval=1.0,
                )
            )
        lavalink = ",".join(
            f"{region}:{node.name}:http://127.0.0.1:{node.port}" for region, node in nodes.items()
        )
        config = load_config(
            {},
            dotenv=tmp / "none.env",
            overrides={
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'panel.db'}",
                "DISCORD_API_BASE": fake.api_base,
                "DISCORD_CLIENT_ID": str(fake.world.application_id),
                "DISCORD_CLIENT_SECRET": "fake-client-secret",
                "BOT_BRIDGE_TOKEN": BRIDGE_TOKEN,
                "SESSION_SECRET": "e2e-session-secret-" + "s" * 32,
                "PANEL_URL": url,
                "LAVALINK_NODES": lavalink,
                "LAVALINK_PASSWORD": LAVALINK_PASSWORD,
            },
        )
        services = await stack.enter_async_context(open_services(config))
        app = create_app(config, services, options=options or PanelOptions(long_poll_max=30.0))
        await stack.enter_async_context(serve_on(app, sock))
        yield BotWorld(fake, nodes, catalogue, services, url, None, tmp, app.state.panel)


async def _status(bot: BotProcess) -> dict[str, Any]:
    response = await bot.get("/status")
    assert response.status_code == 200, response.text
    payload = response.json()
    assert isinstance(payload, dict)
    return payload


async def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_settings_saved_in_chromium_reach_the_bot_process(tmp_path: Path) -> None:
    _need_chromium()
    from playwright.async_api import async_playwright, expect

    async with panel_world(tmp_path) as world:
        guild = await world.add_guild("growth", Tier.GROWTH)
        world.fake.set_oauth_user(
            guild.owner, [UserGuild(GuildId(guild.id), guild.guild.name, owner=True)]
        )
        async with running_bot(world) as bot:
            # the bot holds the guild's settings (version 0) before the panel changes them
            before = await world.run(guild, guild.owner, "settings show")
            assert "settings version 0" in before.content, before.content
            assert "Region: requested auto" in before.content, before.content
            status = await _status(bot)
            sync = status["settings_sync"]
            assert sync["mode"] == "longpoll" and sync["connected"] is True, sync
            applied_before = sync["applied_versions"]

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    page = await browser.new_page(viewport={"width": 1200, "height": 900})
                    await page.goto(f"{world.panel_url}/guilds")
                    await page.click("#login")
                    await page.wait_for_url(f"{world.panel_url}/guilds")
                    row = page.locator(f'li[data-guild="{guild.id}"]')
                    await expect(row).to_be_visible()
                    await row.locator("a", has_text="Manage").click()
                    await page.get_by_label("Guild").get_by_role("link", name="Settings").click()
                    await expect(page.locator("#plan")).to_have_text("Growth")
                    await page.fill("#f-queue_limit", "250")
                    await page.select_option("#f-region", "eu")
                    await page.click("#save")
                    await expect(page.locator("#saved")).to_contain_text("Saved version 1")
                    await expect(page.locator("#clamps")).to_have_count(0)
                    await _shot(page, "panel-to-bot-process-saved")
                finally:
                    await browser.close()

            # the bot process follows the long poll, applies version 1 and tells the panel
            telemetry = world.services.telemetry
            with anyio.move_on_after(20) as waited:
                while True:
                    applied = await telemetry.get(f"settings-applied:{guild.id}")
                    sync = (await _status(bot))["settings_sync"]
                    if (
                        isinstance(applied, dict)
                        and applied.get("version") == 1
                        and sync["applied_versions"] > applied_before
                    ):
                        break
                    await anyio.sleep(0.05)  # another process: its state can only be polled
            assert not waited.cancelled_caught, (
                f"the bot did not apply version 1: {applied=} {sync=}\n{bot.logs()}"
            )
            assert sync["connected"] is True and sync["error"] is None, sync

            after = await world.run(guild, guild.owner, "settings show")
            assert "settings version 1" in after.content, after.content
            assert "Queue limit: 250 " in after.content, after.content
            assert "Region: requested eu, effective eu." in after.content, after.content
            stored = await world.services.settings.get(GuildId(guild.id))
            assert stored is not None and stored.version == 1
            assert stored.settings.queue_limit == 250 and stored.settings.region is Region.EU
