"""The care pages' rules over HTTP: who may see and act, and a clear error for every bad form."""

from __future__ import annotations

import pytest

from tests.unit.test_panel_app import (
    GROWTH_GUILD,
    OTHER_GUILD,
    PRO_GUILD,
    PanelHarness,
    open_harness,
)

pytestmark = pytest.mark.anyio

ALICE = "900000000000000001"
ASK = {"summary": "Tune regions", "contact": "alice@example.org", "hours": "1"}


async def _post(h: PanelHarness, path: str, form: dict[str, str]) -> tuple[int, str]:
    response = await h.client.post(path, data={"csrf_token": h.csrf, **form})
    return response.status_code, response.text


async def test_guild_managers_request_and_see_their_requests_only() -> None:
    async with open_harness() as h:
        await h.login()
        status, text = await _post(h, f"/guilds/{GROWTH_GUILD}/concierge", ASK)
        assert status == 200 and "Request #1 is open" in text
        page = (await h.client.get(f"/guilds/{GROWTH_GUILD}/concierge")).text
        assert "Tune regions" in page and 'id="usage-left">1<' in page
        for form, message in (
            (ASK | {"hours": "abc"}, "Hours must be a number such as 1.5"),
            (ASK | {"hours": ""}, "Say how many hours you need"),
            (ASK | {"hours": "0.3"}, "quarter hours"),
            (ASK | {"summary": " "}, "The summary must be 1-200 characters"),
            (ASK | {"contact": ""}, "Say how to reach you"),
        ):
            status, text = await _post(h, f"/guilds/{GROWTH_GUILD}/concierge", form)
            assert status == 400 and message in text, (form, text[:300])
        status, text = await _post(h, f"/guilds/{GROWTH_GUILD}/concierge", ASK | {"hours": "2"})
        assert status == 403 and "only 1 h are left" in text
        assert 'value="Tune regions"' in text  # what was typed stays
        status, text = await _post(h, f"/guilds/{PRO_GUILD}/concierge", ASK)
        assert status == 403 and "Concierge is part of the Growth plan and above" in text
        status, text = await _post(h, f"/guilds/{PRO_GUILD}/success", ASK)
        assert status == 403 and "Success pod is part of the Scale plan and above" in text
        assert (await h.client.get(f"/guilds/{OTHER_GUILD}/concierge")).status_code == 403
        no_csrf = await h.client.post(f"/guilds/{GROWTH_GUILD}/concierge", data=ASK)
        assert no_csrf.status_code == 403


async def test_contacts_are_the_owners_and_staff_acts_alone() -> None:
    async with open_harness() as h:
        await h.login()
        growth = await h.client.get(f"/guilds/{GROWTH_GUILD}/contacts")  # admin, not owner
        assert growth.status_code == 403 and "Only the server owner" in growth.text
        contact = {"role": "billing", "name": "Ada", "email": "ada@example.org", "phone": ""}
        status, text = await _post(h, f"/guilds/{PRO_GUILD}/contacts", contact)
        assert status == 200 and "billing contact was saved" in text
        for form, message in (
            (contact | {"role": "boss"}, "Choose one of billing, technical, escalation"),
            (contact | {"email": "ada"}, "is not an email address"),
            (contact | {"phone": "call me"}, "The phone number may hold digits"),
        ):
            status, text = await _post(h, f"/guilds/{PRO_GUILD}/contacts", form)
            assert status == 400 and message in text
        await _post(h, f"/guilds/{GROWTH_GUILD}/concierge", ASK)
        assert (await h.client.get("/staff/care")).status_code == 403
        status, _ = await _post(h, "/staff/care/1/acknowledge", {})
        assert status == 403


async def test_staff_actions_explain_bad_input() -> None:
    async with open_harness(staff_user_ids=ALICE) as h:
        await h.login()
        await _post(h, f"/guilds/{GROWTH_GUILD}/concierge", ASK)
        assert "Tune regions" in (await h.client.get("/staff/care")).text
        missing = await h.client.get("/staff/care/999")
        assert missing.status_code == 404 and "no care request #999" in missing.text
        for action, form, message in (
            ("schedule", {"when": "soon"}, "is not a time"),
            ("assign", {"manager_id": "x", "manager_name": "Sam"}, "id must be a Discord id"),
            ("assign", {"manager_id": "123", "manager_name": "Sam"}, "Sam is not VectoBeat staff"),
            ("resolve", {"hours": "-1"}, "quarter hours"),
        ):
            status, text = await _post(h, f"/staff/care/1/{action}", form)
            assert status in (400, 403) and message in text, (action, text[:300])
        status, _ = await _post(h, "/staff/care/1/acknowledge", {})
        assert status == 303
        status, text = await _post(h, "/staff/care/1/acknowledge", {})
        assert status == 400 and "already acknowledged" in text
        page = (await h.client.get("/staff/care/1")).text
        assert "acknowledged by alice" in page
