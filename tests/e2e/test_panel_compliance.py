"""The Compliance page in Chromium, against the real panel, the fake Discord and a real SMTP
server on 127.0.0.1: a guild manager asks for an export of a guild with 10,000 audit events, the
page shows its progress until it is mailed; the mail's signed link downloads (through the panel)
the archive, decrypted from its encrypted store, which parses; then an erasure is requested,
refused with a wrong name, confirmed by typing the server's name, and every store is empty of
the guild. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import socket
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import attrs
import httpx
import pytest
import uvicorn
from tests.e2e.test_panel_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium, _shot
from tests.integration.test_compliance_desk import fill
from tests.smtp_support import SENDER, MailBox, smtp_server

from vectobeat_adapters.compliance.export import read_archive
from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import Services, memory_services
from vectobeat_adapters.telemetry_names import guild_documents
from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_panel.app import create_app
from vectobeat_testkit.discord import FakeDiscord, UserGuild

pytestmark = [pytest.mark.browser, pytest.mark.anyio, pytest.mark.timeout(180)]

GUILD = GuildId(412_345_678_901_234_567)  # "Demo Guild" in `fill`
OTHER = GuildId(998_877_665_544_332_211)
EVENTS = 10_000


@attrs.define
class Stack:
    url: str
    services: Services
    box: MailBox
    exports: Path


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    _need_chromium()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with smtp_server() as (box, smtp_port, _):
        async with FakeDiscord(redirect_uris=[f"{url}/auth/callback"]) as fake:
            alice = fake.add_user("alice")
            fake.set_oauth_user(alice, [UserGuild(GUILD, "Demo Guild", owner=True)])
            services = memory_services()
            await fill(services, GUILD, EVENTS)
            await fill(services, OTHER)
            config = AppConfig(
                discord_api_base=fake.api_base,
                discord_client_id=str(fake.world.application_id),
                discord_client_secret=Secret("fake-client-secret"),
                session_secret=Secret("e2e-session-secret-" + "q" * 32),
                panel_url=url,
                encryption_keys=Secret(f"k1:{Keyring.generate_key()}"),
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_tls="none",
                smtp_from=SENDER,
                compliance_dir=str(tmp_path / "exports"),
                compliance_attachment_max_bytes=1000,  # 10,000 events: a link, not an attachment
            )
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(config, services), log_level="warning", ws="none", lifespan="on"
                )
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(lambda: server.serve(sockets=[sock]))
                with anyio.fail_after(10):
                    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
                        await anyio.sleep(0.02)
                yield Stack(url, services, box, tmp_path / "exports")
                server.should_exit = True
    sock.close()


def link_in(box: MailBox) -> str:
    body = box.mails[-1].get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    [link] = [w for w in text.split() if "/compliance/download/" in w]
    return link


async def test_compliance_page_exports_by_mail_and_erases_after_confirmation(
    stack: Stack,
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{stack.url}/guilds")
        await page.click("#login")
        await page.wait_for_url(f"{stack.url}/guilds")
        await page.goto(f"{stack.url}/guilds/{GUILD}")
        await page.get_by_label("Guild").get_by_role("link", name="Compliance").click()
        await expect(page.locator("h1")).to_have_text("Compliance")

        # a bad address is refused with the reason, nothing is opened
        await page.fill("#email", "dpo@localhost")
        await page.click("#compliance-submit")
        await expect(page.locator("#compliance-error")).to_contain_text("e-mail address")
        assert await stack.services.compliance.find(GUILD) == []

        await page.fill("#email", "dpo@example.com")
        await page.click("#compliance-submit")
        await expect(page.locator("#compliance-notice")).to_contain_text("is being built")
        row = page.locator("#compliance-requests tr.request").first
        await expect(row.locator(".status")).to_have_text("sent", timeout=30_000)  # polled
        await expect(row.locator(".detail")).to_contain_text(f"export of {EVENTS + 9} rows")
        await _shot(page, "compliance-01-export-sent")

        # the mail's link: through the panel, the archive decrypts and parses; tampering fails
        link = link_in(stack.box)
        assert link.startswith(stack.url)
        async with httpx.AsyncClient() as client:
            got = await client.get(link)
            assert got.status_code == 200, got.text
            assert got.headers["content-type"] == "application/zip"
            assert len(read_archive(got.content)["audit_log"]) == EVENTS + 1
            forged = await client.get(link.replace("signature=", "signature=0"))
            assert forged.status_code == 403
        # encrypted at rest: no stored export is a zip ("PK" may occur by chance in base64)
        stored = list(stack.exports.iterdir())
        assert stored and not any(zipfile.is_zipfile(f) for f in stored)

        # erasure: requested, a wrong name refused, the right one confirms
        await page.fill("#email", "dpo@example.com")
        await page.check('input[name="kind"][value="delete"]')
        await page.click("#compliance-submit")
        await expect(page.locator("#compliance-notice")).to_contain_text(
            "waits for its confirmation"
        )
        assert "Confirm erasing the data of Demo Guild" in str(stack.box.mails[-1]["Subject"])
        await _shot(page, "compliance-02-erasure-awaiting-confirmation")
        confirm = page.locator("form[id^=confirm-]")
        await confirm.locator("input[name=typed_name]").fill("Demo Gild")
        await confirm.locator("button").click()
        await expect(page.locator("#compliance-error")).to_contain_text("does not confirm")
        assert await stack.services.settings.get(GUILD) is not None
        confirm = page.locator("form[id^=confirm-]")
        await confirm.locator("input[name=typed_name]").fill("Demo Guild")
        await confirm.locator("button").click()
        await expect(page.locator("#compliance-notice")).to_contain_text("confirmed")
        erasure = page.locator("#compliance-requests tr.request").first
        await expect(erasure.locator(".status")).to_have_text("sent", timeout=30_000)
        await expect(erasure.locator(".detail")).to_contain_text("erased")
        await _shot(page, "compliance-03-erased")
        await browser.close()
        # the two refused forms answer 400 (Chromium logs that); nothing else went wrong
        assert [e for e in errors if "status of 400" not in e] == []
        assert len(errors) == 2

    services = stack.services
    assert await services.settings.get(GUILD) is None
    assert {e.kind for e in await services.audit.recent(GUILD, 1000)} == {
        AuditKind.COMPLIANCE_DELETE
    }
    assert await services.playlists.for_guild(GUILD) == []
    assert await services.tokens.for_guild(GUILD) == []
    assert await services.contacts.for_guild(GUILD) == []
    assert await services.concierge.find(GUILD) == []
    assert await services.webhook_log.recent(GUILD) == []
    assert [await services.telemetry.get(n) for n in guild_documents(GUILD)] == [None] * 3
    assert await services.queues.load(GUILD) is None
    assert list(stack.exports.iterdir()) == []  # the guild's stored export went too
    assert await services.settings.get(OTHER) is not None
    assert stack.box.mails[-1]["Subject"] == "VectoBeat erased the data of Demo Guild"
