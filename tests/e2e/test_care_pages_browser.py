"""The care pages in Chromium (Playwright): a guild owner asks for concierge time and the success
pod and keeps account contacts; the budget refuses too many hours; staff work the care desk
(assign, schedule, resolve) and see the contacts; the owner then sees the account manager.
The panel runs over SQLite with an encryption key, so contacts are stored encrypted. Screenshots
land in test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import sqlalchemy as sa
import uvicorn
from tests.e2e.test_panel_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, _need_chromium

from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import Services, open_services
from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.schema import contacts
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.security import RateLimits
from vectobeat_panel.state import PanelOptions
from vectobeat_testkit.discord import FakeDiscord, FakeUser, UserGuild

GROWTH, SCALE = 720_000_000_000_000_001, 720_000_000_000_000_002
STAFF_ID = 1_400_000_000_000_000_888

pytestmark = [pytest.mark.browser, pytest.mark.anyio]


@attrs.define
class Stack:
    url: str
    services: Services
    fake: FakeDiscord
    owner: FakeUser
    staff: FakeUser
    database_url: str


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    _need_chromium()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'panel.db'}"
    async with FakeDiscord(redirect_uris=[f"{url}/auth/callback"]) as fake:
        owner = fake.add_user("olivia")
        staff = fake.add_user("sam-staff", user_id=STAFF_ID)
        config = AppConfig(
            discord_api_base=fake.api_base,
            discord_client_id=str(fake.world.application_id),
            discord_client_secret=Secret("fake-client-secret"),
            session_secret=Secret("e2e-session-secret-" + "c" * 32),
            panel_url=url,
            database_url=database_url,
            encryption_keys=Secret(f"k1:{Keyring.generate_key()}"),
            staff_user_ids=str(STAFF_ID),
        )
        async with open_services(config) as services:
            now = services.clock.now()
            for gid, name, tier in (
                (GROWTH, "Growth Guild", Tier.GROWTH),
                (SCALE, "Scale Guild", Tier.SCALE),
            ):
                await services.guilds.upsert(GuildRecord(GuildId(gid), name, tier, True, now))
            # three sign-ins in a row: more than a browser's login burst allows
            limits = RateLimits(login_per_minute=600)
            app = create_app(config, services, options=PanelOptions(rate_limits=limits))
            server = uvicorn.Server(
                uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", access_log=False)
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(lambda: server.serve(sockets=[sock]))
                with anyio.fail_after(10):
                    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
                        await anyio.sleep(0.02)
                yield Stack(url, services, fake, owner, staff, database_url)
                server.should_exit = True
    sock.close()


async def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


async def _sign_in(page: Any, stack: Stack, user: FakeUser, guilds: list[UserGuild]) -> None:
    stack.fake.set_oauth_user(user, guilds)
    await page.context.clear_cookies()
    await page.goto(f"{stack.url}/guilds")
    await page.click("#login")
    await page.wait_for_url(f"{stack.url}/guilds")


async def test_care_pages_in_chromium(stack: Stack) -> None:
    from playwright.async_api import async_playwright, expect

    owner_guilds = [
        UserGuild(GuildId(GROWTH), "Growth Guild", owner=True),
        UserGuild(GuildId(SCALE), "Scale Guild", owner=True),
    ]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        # the owner asks for concierge time on the Growth guild (2 h per 30 days)
        await _sign_in(page, stack, stack.owner, owner_guilds)
        await page.goto(f"{stack.url}/guilds/{GROWTH}")
        await page.get_by_role("link", name="Concierge").click()
        await expect(page.locator("h1")).to_have_text("Concierge")
        await page.fill("#summary", "Tune lossless playback")
        await page.fill("#contact", "olivia@example.org")
        await page.fill("#hours", "1")
        await page.click("#care-form button[type=submit]")
        await expect(page.locator("#care-opened")).to_contain_text("Request #1 is open")
        await expect(page.locator("#usage-left")).to_have_text("1")
        await expect(page.locator("#request-1 .timeline")).to_contain_text("requested by olivia")
        await _shot(page, "care-01-concierge")
        await page.fill("#summary", "A whole day of help")
        await page.fill("#contact", "olivia@example.org")
        await page.fill("#hours", "5")
        await page.click("#care-form button[type=submit]")
        await expect(page.locator("#care-error")).to_contain_text("only 1 h are left")
        await expect(page.locator("#summary")).to_have_value("A whole day of help")
        await _shot(page, "care-02-concierge-budget")

        # success pod: not on Growth; on Scale a request opens
        await page.goto(f"{stack.url}/guilds/{GROWTH}/success")
        await expect(page.locator("#care-not-offered")).to_contain_text("not part of the Growth")
        await page.goto(f"{stack.url}/guilds/{SCALE}/success")
        await page.fill("#summary", "Quarterly review")
        await page.fill("#contact", "olivia@example.org")
        await page.click("#care-form button[type=submit]")
        await expect(page.locator("#care-opened")).to_contain_text("Request #2 is open")
        await expect(page.locator("#account-manager")).to_contain_text("No account manager")
        await _shot(page, "care-03-success-pod")

        # account contacts: a bad email is refused, a good one saved
        await page.goto(f"{stack.url}/guilds/{SCALE}/contacts")
        await page.fill("#billing-name", "Ada Lovelace")
        await page.fill("#billing-email", "not-an-email")
        await page.evaluate("document.querySelector('#billing-email').type = 'text'")
        await page.click("#contact-billing button[value=save]")
        await expect(page.locator("#contacts-error")).to_contain_text("is not an email address")
        await page.fill("#billing-name", "Ada Lovelace")
        await page.fill("#billing-email", "ada@example.org")
        await page.fill("#billing-phone", "+44 20 7946 0000")
        await page.click("#contact-billing button[value=save]")
        await expect(page.locator("#contacts-saved")).to_contain_text("billing contact was saved")
        await expect(page.locator("#billing-email")).to_have_value("ada@example.org")
        await _shot(page, "care-04-contacts")

        # the owner is no staff
        response = await page.goto(f"{stack.url}/staff/care")
        assert response is not None and response.status == 403

        # staff work the desk
        await expect(page.get_by_role("link", name="Care desk")).to_have_count(0)
        await _sign_in(page, stack, stack.staff, [])
        await page.get_by_role("link", name="Care desk").click()
        await expect(page.locator("#staff-requests tr.request")).to_have_count(2)
        await _shot(page, "care-05-staff-desk")
        await page.click("text=#2")
        await page.fill("#manager_id", str(STAFF_ID))
        await page.fill("#manager_name", "Sam Staff")
        await page.click("#assign")
        await expect(page.locator("#staff-done")).to_have_text("Assigned.")
        when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d 15:30")
        await page.fill("#when", when)
        await page.click("#schedule")
        await expect(page.locator("#staff-done")).to_have_text("Scheduled.")
        await expect(page.locator(".timeline")).to_contain_text(
            f"scheduled by sam-staff (for {when} UTC)"
        )
        await expect(page.locator("#guild-contacts")).to_contain_text("ada@example.org")
        await _shot(page, "care-06-staff-request")
        await page.goto(f"{stack.url}/staff/care/1")
        await page.fill("#resolve-hours", "0.5")
        await page.click("#resolve")
        await expect(page.locator("#staff-done")).to_have_text("Resolved.")
        await expect(page.locator("#actions")).to_have_count(0)

        # the owner sees the account manager and the concierge hours charged
        await _sign_in(page, stack, stack.owner, owner_guilds)
        await page.goto(f"{stack.url}/guilds/{SCALE}/success")
        await expect(page.locator("#account-manager")).to_contain_text("Sam Staff")
        await _shot(page, "care-07-success-manager")
        await page.goto(f"{stack.url}/guilds/{GROWTH}/concierge")
        await expect(page.locator("#usage-used")).to_have_text("0.5")
        await expect(page.locator("#usage-left")).to_have_text("1.5")
        # the refusals above answer 400/403 on purpose; nothing else may fail
        assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
        await browser.close()

    async with open_database(stack.database_url) as db, db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in await conn.execute(sa.select(contacts))]
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    for plaintext in ("Ada Lovelace", "ada@example.org", "+44 20 7946 0000"):
        assert plaintext not in stored
