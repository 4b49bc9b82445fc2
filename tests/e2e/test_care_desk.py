"""Concierge end to end: a Growth guild asks for concierge time from Discord (the real bot process,
the fake Discord), sees it in the panel, staff acknowledge it from Discord and resolve it in the
panel, and the budget shrinks; a non-staff admin cannot act as staff anywhere; a request past its
SLA raises one alarm, captured by a Discord-webhook and a PagerDuty receiver on 127.0.0.1, which
is resolved in PagerDuty when the request is resolved. Bot and panel share one SQLite database."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from tests.e2e.conftest import E2EGuild, bot_world, running_bot
from tests.webhook_support import Received, WebhookReceiver

from vectobeat_adapters.config import load_config
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import open_services
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_panel.security import SESSION_COOKIE
from vectobeat_panel.sessions import ManagedGuild
from vectobeat_panel.state import Panel
from vectobeat_testkit.discord import FakeUser

pytestmark = pytest.mark.anyio

STAFF_ID = 1_400_000_000_000_000_777
ROUTING_KEY = "e2e-pagerduty-routing-key"


class PanelUser:
    """A signed-in panel browser without the OAuth dance (its session is created directly)."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def post(self, path: str, form: Mapping[str, str]) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": self.csrf, **form})


@asynccontextmanager
async def signed_in(
    panel: Panel, url: str, user: FakeUser, guilds: tuple[ManagedGuild, ...]
) -> AsyncIterator[PanelUser]:
    session = await panel.sessions.create(
        user_id=UserId(user.id), username=user.username, avatar=None, guilds=guilds,
        now=time.time(), ttl=3600,
    )  # fmt: skip
    cookies = {SESSION_COOKIE: panel.signer.sign(session.id).decode()}
    async with httpx.AsyncClient(base_url=url, cookies=cookies) as client:
        yield PanelUser(client, session.csrf)


async def _wait_for(receiver: WebhookReceiver, path: str, needle: str) -> list[Received]:
    with anyio.fail_after(20):
        while True:  # another process sends them
            found = [r for r in receiver.at(path) if needle in r.body.decode()]
            if found:
                return found
            await anyio.sleep(0.05)


def _owner_of(guild: E2EGuild) -> tuple[ManagedGuild, ...]:
    return (ManagedGuild(GuildId(guild.id), guild.guild.name, None, True, 0x8),)


async def test_concierge_from_discord_to_panel_with_staff_budget_and_sla_alarm(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    keys = f"k1:{Keyring.generate_key()}"
    shared = {"DATABASE_URL": db_url, "ENCRYPTION_KEYS": keys, "STAFF_USER_IDS": str(STAFF_ID)}
    config = load_config({}, dotenv=tmp_path / "none.env", overrides=shared)
    async with (
        WebhookReceiver() as receiver,
        open_services(config) as services,
        bot_world(tmp_path, redis_url=None, services=services, panel_config=shared) as world,
    ):
        g = await world.add_guild("growth", Tier.GROWTH)
        staff = world.fake.add_user("staff-sam", user_id=STAFF_ID)
        await world.fake.add_member(guild_id=g.id, user=staff)
        env = {f"VECTOBEAT_{k}": v for k, v in shared.items()} | {
            "VECTOBEAT_SLA_CHECK_SECONDS": "0.2",
            "VECTOBEAT_ALARM_DISCORD_WEBHOOK_URL": receiver.url("/discord"),
            "VECTOBEAT_ALARM_PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
            "VECTOBEAT_ALARM_PAGERDUTY_URL": receiver.url("/pagerduty"),
        }
        ask = {"summary": "Set up EU pinning", "hours": 1.5, "contact": "ops@example.org"}
        async with running_bot(world, **env):
            opened = await world.run(g, g.owner, "concierge request", ask)
            assert opened.ephemeral, opened.content
            assert "Request opened: #1 Concierge · open · 1.5 h" in opened.content
            assert "0 of 2 h used in the last 30 days, 1.5 h booked" in opened.content
            too_much = await world.run(g, g.owner, "concierge request", ask | {"hours": 1})
            assert too_much.ephemeral
            assert "You asked for 1 h but only 0.5 h are left" in too_much.content
            not_admin = await world.run(g, g.member, "concierge request", ask)
            assert "Manage Server" in not_admin.content and not_admin.ephemeral
            bad_hours = await world.run(g, g.owner, "concierge request", ask | {"hours": 0.1})
            assert "quarter hours" in bad_hours.content and bad_hours.ephemeral

            # the guild's admin is not staff: refused in Discord and in the panel
            not_staff = await world.run(g, g.owner, "concierge acknowledge", {"request": 1})
            assert "Only VectoBeat staff" in not_staff.content and not_staff.ephemeral
            async with signed_in(world.panel, world.panel_url, g.owner, _owner_of(g)) as owner:
                page = await owner.get(f"/guilds/{g.id}/concierge")
                assert page.status_code == 200
                assert "Set up EU pinning" in page.text
                assert '<strong id="usage-left">0.5</strong>' in page.text
                assert "requested by growth-owner" in page.text  # the timeline
                assert (await owner.get("/staff/care")).status_code == 403
                refused = await owner.post("/staff/care/1/resolve", {"hours": "0.25"})
                assert refused.status_code == 403
                assert "for VectoBeat staff" in refused.text

            # staff: bad arguments are explained; acknowledge from Discord, resolve in the panel
            unknown = await world.run(g, staff, "concierge acknowledge", {"request": 999})
            assert "There is no care request #999 here." in unknown.content and unknown.ephemeral
            bad_time = await world.run(
                g, staff, "concierge schedule", {"request": 1, "when": "tomorrow"}
            )
            assert "'tomorrow' is not a time: write it as YYYY-MM-DD HH:MM in UTC" in (
                bad_time.content
            )
            not_staff_manager = await world.run(
                g, staff, "success assign", {"request": 1, "manager": g.owner.id}
            )
            assert "growth-owner is not VectoBeat staff" in not_staff_manager.content
            acked = await world.run(g, staff, "concierge acknowledge", {"request": 1})
            assert "Acknowledged: #1 Concierge · in progress" in acked.content
            async with signed_in(world.panel, world.panel_url, staff, ()) as desk:
                queue = await desk.get("/staff/care")
                assert queue.status_code == 200 and "Set up EU pinning" in queue.text
                done = await desk.post("/staff/care/1/resolve", {"hours": "2"})
                assert done.status_code == 303, done.text
                assert done.headers["location"] == "/staff/care/1?done=resolve"
                page = await desk.get(done.headers["location"])
                assert "Resolved." in page.text
                for step in ("requested by growth-owner", "acknowledged by staff-sam",
                             "resolved by staff-sam (2 h)"):  # fmt: skip
                    assert step in page.text
                again = await desk.post("/staff/care/1/resolve", {})
                assert again.status_code == 400 and "already resolved" in again.text

            usage = await world.run(g, g.owner, "concierge usage")
            assert "2 of 2 h used in the last 30 days, 0 h booked in open requests, 0 h left" in (
                usage.content
            )
            spent = await world.run(g, g.owner, "concierge request", ask | {"hours": 0.25})
            assert "concierge hours are spent" in spent.content

            # a request opened 9 hours ago is past Growth's 480-minute SLA: one alarm
            now = time.time()
            late = await services.concierge.open(
                GuildId(g.id), "concierge", subject="Playback stutters", body="",
                requested_by=UserId(g.owner.id), now=now - 9 * 3600,
                due_at=now - 9 * 3600 + 480 * 60, hours=0.25,
            )  # fmt: skip
            key = f"sla:{late.request_id}"
            [trigger] = await _wait_for(receiver, "/pagerduty", key)
            event = json.loads(trigger.body)
            assert (event["event_action"], event["dedup_key"]) == ("trigger", key)
            assert event["routing_key"] == ROUTING_KEY
            assert "missed its SLA by 60 min" in event["payload"]["summary"]
            [embed] = await _wait_for(receiver, "/discord", "missed its SLA")
            assert "Playback stutters" in embed.body.decode()

            resolved = await world.run(g, staff, "concierge resolve", {"request": late.request_id})
            assert "Resolved:" in resolved.content
            await _wait_for(receiver, "/pagerduty", '"resolve"')
        triggers = [r for r in receiver.at("/pagerduty") if b'"trigger"' in r.body]
        assert len(triggers) == 1  # claimed once, alarmed once
        timeline = await services.audit.recent(GuildId(g.id), 50)
        assert any("missed its SLA" in e.summary for e in timeline)
