"""Web playback controls in Chromium against a REAL bot process: the guild owner signs in, opens
the live queue on two pages, and from the first one pauses, resumes, skips, seeks and reorders by
drag and drop; the fake node applies each change and the SECOND page shows it (server-sent
events), with a progress bar that moves between pushes. The no-JS forms do the same. Each control
is audited with its actor. Screenshots land in test-artifacts/screenshots/ (printed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.conftest import BotWorld, E2EGuild, running_bot
from tests.e2e.test_panel_to_bot_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    _need_chromium,
    panel_world,
)

from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_testkit.discord import UserGuild

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(300)]

ARTWORK = "https://127.0.0.1:9/artwork.png"  # never loaded offline: the page points at it
TITLES = ("Artwork Song", "Bravo Song", "Charlie Song", "Delta Song", "Echo Song")


async def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


async def _progress(page: Any) -> float:
    value = await page.locator("#progress").evaluate("e => e.value")
    return float(value)


async def _progress_reaches(page: Any, at_least: float) -> None:
    """Wait until the page's progress bar shows ``at_least`` ms (the page's CSP forbids
    ``wait_for_function``'s eval, so the bar is read until it gets there)."""
    with anyio.fail_after(15):
        while await _progress(page) < at_least:  # noqa: ASYNC110 - the page moves the bar
            await anyio.sleep(0.1)


async def fill_queue(world: BotWorld, guild: E2EGuild) -> None:
    world.catalogue.add("Artwork Song", "The Testers", 600_000, artwork_url=ARTWORK)
    await world.voice(guild, guild.owner)
    for title in TITLES:
        answer = await world.run(guild, guild.owner, "play", {"query": title})
        assert not answer.ephemeral, answer.content
    await world.wait_player(guild, "Artwork Song")


async def test_live_queue_controls_in_chromium(tmp_path: Path) -> None:
    _need_chromium()
    from playwright.async_api import async_playwright, expect

    async with panel_world(tmp_path) as world:
        guild = await world.add_guild("web", Tier.GROWTH, dj_role=True)
        world.fake.set_oauth_user(
            guild.owner, [UserGuild(GuildId(guild.id), guild.guild.name, owner=True)]
        )
        async with running_bot(world), async_playwright() as pw:
            await fill_queue(world, guild)
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport={"width": 1200, "height": 900})
                page = await context.new_page()
                await page.goto(f"{world.panel_url}/guilds")
                await page.click("#login")
                await page.wait_for_url(f"{world.panel_url}/guilds")
                queue_url = f"{world.panel_url}/guilds/{guild.id}/queue"
                await page.goto(queue_url)
                other = await context.new_page()  # the SECOND open page, same member
                await other.goto(queue_url)
                for p in (page, other):
                    await expect(p.locator(".q-title")).to_have_text("Artwork Song")
                    await expect(p.locator("img.art")).to_have_attribute("src", ARTWORK)
                    await expect(p.locator("li.track")).to_have_count(4)
                await _shot(page, "controls-01-queue")

                # the bar moves between pushes (client-side, from position + time read)
                start = await _progress(other)
                await _progress_reaches(other, start + 300)

                await page.click("#q-pause")
                await expect(page.locator("#notice")).to_contain_text("Paused **Artwork Song**")
                await world.wait_nodes(lambda: world.player(guild)[1].paused)  # type: ignore[index]
                await expect(other.locator("#state")).to_have_text("Paused")
                await expect(other.locator("#q-pause")).to_have_text("Resume")
                await _shot(other, "controls-02-second-page-paused")

                await expect(page.locator("#q-pause")).to_have_text("Resume")  # pushed here too
                await page.click("#q-pause")
                await expect(page.locator("#notice")).to_contain_text("Resumed")
                await expect(other.locator("#state")).to_have_text("Playing")

                await expect(page.locator("#q-pause")).to_have_text("Pause")
                await page.click("#q-skip")
                await expect(page.locator("#notice")).to_contain_text("now playing **Bravo Song**")
                await world.wait_player(guild, "Bravo Song")
                await expect(other.locator(".q-title")).to_have_text("Bravo Song")
                await expect(other.locator("li.track")).to_have_count(3)

                await expect(page.locator(".q-title")).to_have_text("Bravo Song")
                await page.fill("#q-seek-to", "4:00")
                await page.click("#q-seek")
                await expect(page.locator("#notice")).to_contain_text("Jumped to 4:00")
                await world.wait_nodes(
                    lambda: world.player(guild)[1].position >= 240_000  # type: ignore[index]
                )
                await _progress_reaches(other, 240_000)
                await _progress_reaches(page, 240_000)  # this page shows the seek too
                await _shot(other, "controls-03-second-page-after-seek")

                # drag Echo (position 3) onto position 1
                rows = page.locator("li.track")
                await expect(rows.nth(2)).to_contain_text("Echo Song")
                await rows.nth(2).drag_to(rows.nth(0))
                await expect(page.locator("#notice")).to_contain_text(
                    "Moved **Echo Song** by The Testers (10:00) to position 1."
                )
                await expect(other.locator("li.track").nth(0)).to_contain_text("Echo Song")
                await expect(other.locator("li.track").nth(1)).to_contain_text("Charlie Song")
                await _shot(other, "controls-04-second-page-after-drag")

                # bad input: a clear message, nothing lost
                await page.fill("#q-seek-to", "99:99")
                await page.click("#q-seek")
                await expect(page.locator("#notice")).to_contain_text("not a position")
                await expect(other.locator("li.track")).to_have_count(3)

                # without JavaScript: the forms post and the page answers
                plain = await browser.new_context(java_script_enabled=False)
                cookies: Any = await context.cookies()
                await plain.add_cookies(cookies)
                nojs = await plain.new_page()
                await nojs.goto(queue_url)
                await nojs.locator("li.track").nth(2).get_by_role("button", name="Up").click()
                await expect(nojs.locator("#notice")).to_contain_text("to position 2")
                await expect(other.locator("li.track").nth(1)).to_contain_text("Delta Song")
                await _shot(nojs, "controls-05-no-javascript")
                await plain.close()
            finally:
                await browser.close()

            events = await world.services.audit.recent(
                GuildId(guild.id), kinds=[AuditKind.PLAYBACK_CONTROL]
            )
            actions = sorted(str(e.data["command"]["action"]) for e in events)  # type: ignore[index,call-overload]
            assert actions == sorted(["pause", "resume", "skip", "seek", "move", "move"]), (
                actions
            )  # the refused seek never reached the bot (400 at the panel)
            assert {e.actor for e in events} == {f"user:{guild.owner.id}"}
