"""Webhook exports in the panel: unsafe URLs refused at save (by rule and after resolving the
host), the delivery log page, and "Send test event" delivering a signed event to a real receiver
on 127.0.0.1 through the same sender as the bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from tests.unit.test_panel_app import PRO_GUILD, PanelHarness, open_harness
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver, fixed_resolver

from vectobeat_adapters.config import Secret
from vectobeat_core.ids import GuildId

pytestmark = pytest.mark.anyio

SETTINGS_API = f"/api/control-panel/guilds/{PRO_GUILD}/settings"
NAMES: dict[str, list[str]] = {
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "sneaky.example.com": ["93.184.216.34", "10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
}


@pytest.fixture
async def harness() -> AsyncIterator[PanelHarness]:
    async with open_harness(
        webhook_signing_secret=Secret(SIGNING_SECRET), webhook_allowed_hosts="127.0.0.1"
    ) as h:
        h.panel.webhook_resolver = fixed_resolver(NAMES)
        yield h


async def put_url(harness: PanelHarness, csrf: str, url: str) -> tuple[int, str]:
    response = await harness.client.put(
        SETTINGS_API,
        json={"version": 0, "settings": {"webhook_export_url": url}},
        headers={"x-csrf-token": csrf},
    )
    body = response.json()
    return response.status_code, json.dumps(body.get("problems", body))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://169.254.169.254/latest/meta-data/", "https://"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[::1]/", "loopback"),
        ("http://2130706433/", "https://"),
        ("https://2130706433/", "written as a number"),
        ("https://0177.0.0.1/", "written as a number"),
        ("https://0x7f.1/", "written as a number"),
        ("https://[::ffff:10.0.0.1]/", "private"),
        ("http://hooks.example.com/x", "https://"),
        ("https://sneaky.example.com/x", "10.0.0.7 is a private address"),
        ("https://metadata.example.com/x", "cloud metadata"),
        ("https://nowhere.example.com/x", "does not resolve"),
    ],
)
async def test_unsafe_urls_are_refused_at_save(harness: PanelHarness, url: str, says: str) -> None:
    csrf = await harness.login()
    status, problems = await put_url(harness, csrf, url)
    assert status == 400, problems
    assert "webhook_export_url" in problems and says in problems
    assert await harness.services.settings.get(GuildId(PRO_GUILD)) is None  # nothing saved


async def test_public_https_and_allow_listed_http_are_saved(harness: PanelHarness) -> None:
    csrf = await harness.login()
    status, _ = await put_url(harness, csrf, "https://hooks.example.com/x")
    assert status == 200
    response = await harness.client.put(
        SETTINGS_API,
        json={"version": 1, "settings": {"webhook_export_url": "http://127.0.0.1:9/hook"}},
        headers={"x-csrf-token": csrf},
    )
    assert response.status_code == 200, response.text
    record = await harness.services.settings.get(GuildId(PRO_GUILD))
    assert record is not None and record.settings.webhook_export_url == "http://127.0.0.1:9/hook"


async def test_settings_form_refuses_http_and_links_the_delivery_page(
    harness: PanelHarness,
) -> None:
    csrf = await harness.login()
    form = await harness.client.post(
        f"/guilds/{PRO_GUILD}/settings",
        data={
            "csrf_token": csrf,
            "base_version": "0",
            "webhook_export_url": "http://hooks.example.com/x",
        },
    )
    assert form.status_code == 400 and "must start with https://" in form.text
    page = await harness.client.get(f"/guilds/{PRO_GUILD}/settings")
    assert f'href="/guilds/{PRO_GUILD}/webhooks"' in page.text
    assert "receives each selected event as signed JSON" in page.text


async def test_test_event_is_delivered_signed_and_logged(harness: PanelHarness) -> None:
    csrf = await harness.login()
    async with WebhookReceiver() as receiver:
        response = await harness.client.put(
            SETTINGS_API,
            json={
                "version": 0,
                "settings": {
                    "webhook_export_url": receiver.url("/hook"),
                    "webhook_export_events": ["track_started"],
                },
            },
            headers={"x-csrf-token": csrf},
        )
        assert response.status_code == 200, response.text
        empty = await harness.client.get(f"/guilds/{PRO_GUILD}/webhooks")
        assert empty.status_code == 200 and "No deliveries yet." in empty.text
        assert 'id="signing-secret"' in empty.text
        no_csrf = await harness.client.post(f"/guilds/{PRO_GUILD}/webhooks/test")
        assert no_csrf.status_code == 403 and receiver.received == []
        sent = await harness.client.post(
            f"/guilds/{PRO_GUILD}/webhooks/test", data={"csrf_token": csrf}
        )
        assert sent.status_code == 200, sent.text
        assert 'id="test-result"' in sent.text and "Test event: HTTP 200" in sent.text
        [got] = receiver.received
        assert got.signed_for(PRO_GUILD, now=harness.services.clock.now())
        assert json.loads(got.body)["type"] == "test"
        receiver.statuses["/hook"] = [500]
        failed = await harness.client.post(
            f"/guilds/{PRO_GUILD}/webhooks/test", data={"csrf_token": csrf}
        )
        assert failed.status_code == 502 and "Test event: HTTP 500" in failed.text
    page = await harness.client.get(f"/guilds/{PRO_GUILD}/webhooks")
    assert page.text.count('class="delivery ') == 2
    assert "HTTP 500" in page.text and "HTTP 200" in page.text


async def test_test_event_without_a_url_says_so(harness: PanelHarness) -> None:
    csrf = await harness.login()
    response = await harness.client.post(
        f"/guilds/{PRO_GUILD}/webhooks/test", data={"csrf_token": csrf}
    )
    assert response.status_code == 400 and 'id="no-url"' in response.text


async def test_without_a_signing_secret_the_page_says_exports_are_off() -> None:
    async with open_harness(webhook_allowed_hosts="127.0.0.1") as h:
        csrf = await h.login()
        await h.client.put(
            SETTINGS_API,
            json={"version": 0, "settings": {"webhook_export_url": "http://127.0.0.1:9/x"}},
            headers={"x-csrf-token": csrf},
        )
        page = await h.client.get(f"/guilds/{PRO_GUILD}/webhooks")
        assert 'id="signing-secret-missing"' in page.text
        sent = await h.client.post(f"/guilds/{PRO_GUILD}/webhooks/test", data={"csrf_token": csrf})
        assert sent.status_code == 502 and "WEBHOOK_SIGNING_SECRET" in sent.text
