"""The guild page's "Plan & billing" section: offers and the portal when billing is on, a note when
it is off, CSRF on every form, labels, and the rendered checkout form accepted by the route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest

from tests.unit.test_panel_app import (
    FREE_GUILD,
    GROWTH_GUILD,
    PRO_GUILD,
    PanelHarness,
    open_harness,
)
from vectobeat_adapters.config import Secret
from vectobeat_testkit.stripe import FakeStripe

KEY = "sk_test_" + "u" * 24
PRICES = "pro=price_pro,starter=price_starter"

pytestmark = pytest.mark.anyio


class Forms(HTMLParser):
    """The forms of a page (action, method, fields) and the buttons' text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.buttons: list[str] = []
        self._button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
        elif tag == "input" and self.forms:
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[a.get("name") or ""] = a.get("value") or ""
        elif tag == "button":
            self._button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = False

    def handle_data(self, data: str) -> None:
        if self._button:
            self.buttons[-1] += data.strip()

    def billing_forms(self) -> list[dict[str, object]]:
        return [f for f in self.forms if "/billing/" in str(f["action"])]


async def page_forms(h: PanelHarness, guild: int, query: str = "") -> tuple[str, Forms]:
    response = await h.client.get(f"/guilds/{guild}{query}")
    assert response.status_code == 200, response.text
    parser = Forms()
    parser.feed(response.text)
    return response.text, parser


@pytest.fixture
async def fake() -> AsyncIterator[FakeStripe]:
    async with FakeStripe(api_key=KEY) as server:
        yield server


async def test_billing_off_shows_a_note_and_no_forms() -> None:
    async with open_harness() as h:
        await h.login()
        for guild in (FREE_GUILD, PRO_GUILD):
            text, forms = await page_forms(h, guild)
            assert "Plan &amp; billing" in text and 'id="billing-off"' in text
            assert forms.billing_forms() == []
            assert "Manage billing" not in forms.buttons


async def test_unreadable_prices_keep_the_page_up() -> None:
    async with open_harness(stripe_secret_key=Secret(KEY), stripe_prices="gold=price_1") as h:
        await h.login()
        text, forms = await page_forms(h, FREE_GUILD)
        assert 'id="billing-off"' in text and forms.billing_forms() == []


async def test_free_guild_gets_one_csrf_form_per_tier_for_sale(fake: FakeStripe) -> None:
    async with open_harness(
        stripe_secret_key=Secret(KEY), stripe_api_base=fake.api_base, stripe_prices=PRICES
    ) as h:
        csrf = await h.login()
        text, forms = await page_forms(h, FREE_GUILD)
        assert 'id="billing-off"' not in text
        billing = forms.billing_forms()
        assert [f["fields"] for f in billing] == [
            {"csrf_token": csrf, "tier": "starter"},
            {"csrf_token": csrf, "tier": "pro"},
        ]
        assert all(f["method"] == "post" for f in billing)
        assert {"Buy Starter", "Buy Pro"} <= set(forms.buttons)
        assert "Manage billing" not in forms.buttons
        # the rendered form, posted as a browser would, reaches Stripe Checkout
        form = billing[1]
        fields = form["fields"]
        assert isinstance(fields, dict)
        sent = await h.client.post(str(form["action"]), data=fields)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith(fake.base_url)
        # without the token the same form is refused
        forged = await h.client.post(str(form["action"]), data={"tier": "pro"})
        assert forged.status_code == 403


async def test_paid_guild_gets_the_portal_instead_of_offers() -> None:
    async with open_harness(stripe_secret_key=Secret(KEY), stripe_prices=PRICES) as h:
        csrf = await h.login()
        for guild in (PRO_GUILD, GROWTH_GUILD):
            _, forms = await page_forms(h, guild)
            (portal,) = forms.billing_forms()
            assert portal["action"] == f"/guilds/{guild}/billing/portal"
            assert portal["fields"] == {"csrf_token": csrf}
            assert "Manage billing" in forms.buttons
            assert not any(b.startswith("Buy ") for b in forms.buttons)


async def test_return_from_stripe_shows_a_fixed_status_message() -> None:
    async with open_harness(stripe_secret_key=Secret(KEY), stripe_prices=PRICES) as h:
        await h.login()
        text, _ = await page_forms(h, FREE_GUILD, "?billing=success")
        assert 'role="status"' in text and "as soon as Stripe confirms" in text
        text, _ = await page_forms(h, FREE_GUILD, "?billing=%3Cscript%3E")
        assert 'role="status"' not in text and "<script>" not in text
