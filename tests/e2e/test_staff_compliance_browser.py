"""The staff's compliance desk in Chromium (Playwright): every guild's exports and erasures with
status and progress, filtered by status, kind and guild; a bad filter is a 400 that says why; a
guild owner who is no staff gets 403 and no nav link. Screenshots land in
test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import pytest
from tests.e2e.test_care_pages_browser import (
    GROWTH,
    SCALE,
    Stack,
    _shot,
    _sign_in,
    stack,  # noqa: F401 - the fixture
)
from tests.e2e.test_panel_browser import CHROMIUM, CHROMIUM_ARGS

from vectobeat_core.ids import GuildId
from vectobeat_testkit.discord import UserGuild

pytestmark = [pytest.mark.browser, pytest.mark.anyio]


async def _seed(world: Stack) -> None:
    """An export mailed and an erasure awaiting confirmation on Growth, a failed export on Scale."""
    store, now = world.services.compliance, world.services.clock.now()
    owner = world.owner.id
    sent = await store.open(GuildId(GROWTH), "export", requested_by=owner, email="o@x.org", now=now)
    await store.set_status(sent.request_id, "sent", now + 5, "mailed as an attachment (12 KB)")
    await store.open(GuildId(GROWTH), "delete", requested_by=owner, email="o@x.org", now=now + 6)
    failed = await store.open(
        GuildId(SCALE), "export", requested_by=owner, email="o@x.org", now=now + 7
    )
    await store.set_status(failed.request_id, "failed", now + 8, "SMTP refused the message")


async def test_staff_see_and_filter_every_guilds_compliance_requests(
    stack: Stack,  # noqa: F811 - the imported fixture
) -> None:
    from playwright.async_api import async_playwright, expect

    await _seed(stack)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})

        # a guild owner who is not staff: no link, 403
        owner_guilds = [UserGuild(GuildId(GROWTH), "Growth Guild", owner=True)]
        await _sign_in(page, stack, stack.owner, owner_guilds)
        await expect(page.get_by_role("link", name="Compliance desk")).to_have_count(0)
        response = await page.goto(f"{stack.url}/staff/compliance")
        assert response is not None and response.status == 403
        await expect(page.locator("body")).to_contain_text("for VectoBeat staff")

        # staff see all three requests of both guilds, newest first, with their progress
        await _sign_in(page, stack, stack.staff, [])
        await page.get_by_role("link", name="Compliance desk").click()
        await expect(page.locator("h1")).to_have_text("Compliance desk")
        rows = page.locator("#staff-compliance tr.request")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(0)).to_contain_text(str(SCALE))
        await expect(rows.nth(0).locator(".detail")).to_have_text("SMTP refused the message")
        await expect(rows.nth(2).locator(".detail")).to_contain_text("mailed as an attachment")
        await _shot(page, "staff-compliance-01-all")

        # filters: by status, then by guild and kind
        await page.select_option("#filter-status", "failed")
        await page.click("#filter-apply")
        await expect(rows).to_have_count(1)
        await expect(rows.nth(0).locator(".status")).to_have_text("failed")
        await page.goto(f"{stack.url}/staff/compliance")
        await page.fill("#filter-guild", str(GROWTH))
        await page.select_option("#filter-kind", "delete")
        await page.click("#filter-apply")
        await expect(rows).to_have_count(1)
        await expect(rows.nth(0)).to_contain_text("erasure")
        await expect(rows.nth(0).locator(".status")).to_have_text("pending")
        await expect(page.locator("#filter-guild")).to_have_value(str(GROWTH))
        await _shot(page, "staff-compliance-02-filtered")
        await page.fill("#filter-guild", "")
        await page.select_option("#filter-kind", "")
        await page.select_option("#filter-status", "running")
        await page.click("#filter-apply")
        await expect(page.locator("#staff-compliance")).to_contain_text("No requests match")

        # bad filters are refused with a reason
        response = await page.goto(f"{stack.url}/staff/compliance?status=lost")
        assert response is not None and response.status == 400
        await expect(page.locator("body")).to_contain_text("'status' must be one of")
        response = await page.goto(f"{stack.url}/staff/compliance?guild=abc")
        assert response is not None and response.status == 400
        await expect(page.locator("body")).to_contain_text("'guild' must be a Discord id")
        await browser.close()
