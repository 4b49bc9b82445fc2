"""Who may use the web playback controls, against a REAL bot process: the bot applies the slash
commands' DJ rule to the signed-in member's live roles (a member who signed in as a manager but
has neither Manage Server nor a DJ role now is refused, a DJ is not); a manager of another guild
never reaches this one; a POST without the CSRF token is refused; API tokens need the action's
scope (``playback:control`` or ``queue:write``) and their own guild. Refusals change nothing on
the node, and every control the bot answered is audited with its actor and outcome."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from tests.e2e.conftest import MANAGE_GUILD, BotWorld, E2EGuild, running_bot
from tests.e2e.test_panel_playback_controls import fill_queue
from tests.e2e.test_panel_to_bot_process import panel_world

from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_panel.security import RateLimits
from vectobeat_panel.state import PanelOptions
from vectobeat_testkit.discord import FakeUser, UserGuild

SIGN_INS = PanelOptions(long_poll_max=30.0, rate_limits=RateLimits(login_per_minute=600.0))
"""Three people sign in from one loopback address within seconds."""

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(240)]


@asynccontextmanager
async def signed_in(
    world: BotWorld, user: FakeUser, guilds: list[UserGuild]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser-like client signed in as ``user`` (Discord says they manage ``guilds``), and
    its CSRF token."""
    world.fake.set_oauth_user(user, guilds)
    async with httpx.AsyncClient(base_url=world.panel_url, follow_redirects=True) as client:
        landed = await client.get("/auth/discord?next=/guilds")
        assert landed.status_code == 200 and "Your guilds" in landed.text, landed.text[:500]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', landed.text)
        assert csrf is not None
        yield client, csrf.group(1)


def _control(guild: E2EGuild) -> str:
    return f"/api/control-panel/guilds/{guild.id}/queue/control"


def _paused(world: BotWorld, guild: E2EGuild) -> bool:
    found = world.player(guild)
    assert found is not None
    return bool(found[1].paused)


async def test_dj_rule_guild_access_and_csrf(tmp_path: Path) -> None:
    async with panel_world(tmp_path, SIGN_INS) as world:
        guild = await world.add_guild("rules", Tier.GROWTH, dj_role=True)
        elsewhere = await world.add_guild("elsewhere", Tier.GROWTH)
        async with running_bot(world):
            await fill_queue(world, guild)
            claimed = [UserGuild(GuildId(guild.id), guild.guild.name, permissions=MANAGE_GUILD)]

            # signed in as a manager, but the bot sees neither Manage Server nor a DJ role now
            async with signed_in(world, guild.member, claimed) as (client, csrf):
                refused = await client.post(
                    _control(guild), json={"action": "pause"}, headers={"x-csrf-token": csrf}
                )
                assert refused.status_code == 403, refused.text
                assert refused.json()["outcome"] == "refused"
                assert refused.json()["error"] == (
                    "Only DJs can pause playback here: you need a DJ role or the Manage Server "
                    "permission."
                )
                assert not _paused(world, guild)
                form = await client.post(
                    f"/guilds/{guild.id}/queue/control",
                    data={"csrf_token": csrf, "action": "skip"},
                )
                assert form.status_code == 403 and "Only DJs can skip tracks here" in form.text
                no_csrf = await client.post(_control(guild), json={"action": "pause"})
                assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]

            # the same claim with the guild's DJ role: allowed, like /pause
            async with signed_in(world, guild.dj, claimed) as (client, csrf):
                done = await client.post(
                    _control(guild), json={"action": "pause"}, headers={"x-csrf-token": csrf}
                )
                assert done.status_code == 200, done.text
                assert done.json() == {
                    "outcome": "applied",
                    "message": "Paused **Artwork Song** by The Testers (10:00).",
                    "status": 200,
                }
                assert _paused(world, guild)
                bad = await client.post(
                    _control(guild),
                    json={"action": "volume", "volume": 500},
                    headers={"x-csrf-token": csrf},
                )
                assert bad.status_code == 400 and "'volume' must be" in bad.json()["error"]

            # a manager of another guild never reaches this one
            other = [UserGuild(GuildId(elsewhere.id), elsewhere.guild.name, owner=True)]
            async with signed_in(world, elsewhere.owner, other) as (client, csrf):
                outsider = await client.post(
                    _control(guild), json={"action": "resume"}, headers={"x-csrf-token": csrf}
                )
                assert outsider.status_code == 403, outsider.text
                assert "You do not manage this guild" in outsider.json()["error"]
                page = await client.get(f"/guilds/{guild.id}/queue")
                assert page.status_code == 403
            assert _paused(world, guild)

            events = await world.services.audit.recent(
                GuildId(guild.id), kinds=[AuditKind.PLAYBACK_CONTROL]
            )
            seen = sorted((e.actor or "", str(e.data["outcome"])) for e in events)
            assert seen == sorted(
                [
                    (f"user:{guild.member.id}", "refused"),
                    (f"user:{guild.member.id}", "refused"),
                    (f"user:{guild.dj.id}", "applied"),
                ]
            )


async def test_api_tokens_need_the_action_scope(tmp_path: Path) -> None:
    async with panel_world(tmp_path) as world:
        guild = await world.add_guild("api", Tier.GROWTH)
        elsewhere = await world.add_guild("api-other", Tier.GROWTH)
        tokens = world.services.tokens
        now = world.services.clock.now()

        async def secret(g: E2EGuild, scopes: list[str]) -> str:
            return (await tokens.issue(GuildId(g.id), "t", scopes, now=now)).secret

        read_only = await secret(guild, ["queue:read"])
        playback = await secret(guild, ["playback:control"])
        queue_write = await secret(guild, ["queue:write"])
        foreign = await secret(elsewhere, ["playback:control", "queue:write"])
        url = f"/api/v1/guilds/{guild.id}/queue/control"
        async with running_bot(world), httpx.AsyncClient(base_url=world.panel_url) as client:
            await fill_queue(world, guild)

            async def call(token: str, body: dict[str, object]) -> httpx.Response:
                return await client.post(
                    url, json=body, headers={"authorization": f"Bearer {token}"}
                )

            lacking = await call(read_only, {"action": "pause"})
            assert lacking.status_code == 403
            assert lacking.json()["error"] == "This API token lacks the 'playback:control' scope."
            wrong_guild = await call(foreign, {"action": "pause"})
            assert wrong_guild.status_code == 403 and "another guild" in wrong_guild.json()["error"]
            no_token = await client.post(url, json={"action": "pause"})
            assert no_token.status_code == 401
            assert not _paused(world, guild)

            paused = await call(playback, {"action": "pause"})
            assert paused.status_code == 200 and paused.json()["outcome"] == "applied"
            assert _paused(world, guild)
            edit = await call(playback, {"action": "move", "position": 4, "target": 1})
            assert edit.status_code == 403
            assert edit.json()["error"] == "This API token lacks the 'queue:write' scope."
            moved = await call(queue_write, {"action": "move", "position": 4, "target": 1})
            assert moved.status_code == 200, moved.text
            assert "Moved **Echo Song**" in moved.json()["message"]
            queue = await client.get(
                f"/api/v1/guilds/{guild.id}/queue", headers={"authorization": f"Bearer {read_only}"}
            )
            assert [e["title"] for e in queue.json()["upcoming"]][:2] == ["Echo Song", "Bravo Song"]
            out_of_range = await call(queue_write, {"action": "remove", "position": 99})
            assert out_of_range.status_code == 400 and out_of_range.json()["outcome"] == "refused"

            # the other actions, each as the node or the queue shows it
            first = await call(playback, {"action": "previous"})
            assert first.status_code == 409  # QueueEmpty, as in /previous
            assert first.json()["error"] == "There is no previous track."
            skipped = await call(playback, {"action": "skip"})
            assert "now playing **Echo Song**" in skipped.json()["message"], skipped.text
            await world.wait_player(guild, "Echo Song")
            back = await call(playback, {"action": "previous"})
            assert back.json()["message"] == "Back to **Artwork Song** by The Testers (10:00)."
            await world.wait_player(guild, "Artwork Song")
            volume = await call(playback, {"action": "volume", "volume": 50})
            assert volume.json()["message"] == "Volume set to 50%."
            found = world.player(guild)
            assert found is not None and found[1].volume == 50
            shuffled = await call(queue_write, {"action": "shuffle"})
            assert shuffled.json()["message"] == "Shuffled 4 tracks.", shuffled.text
            cleared = await call(queue_write, {"action": "clear"})
            assert cleared.json()["message"] == "Cleared 4 tracks from the queue."
            queue = await client.get(
                f"/api/v1/guilds/{guild.id}/queue", headers={"authorization": f"Bearer {read_only}"}
            )
            assert queue.json()["total"] == 0
            assert queue.json()["current"]["title"] == "Artwork Song"
            assert queue.json()["player"]["volume"] == 50

        events = await world.services.audit.recent(
            GuildId(guild.id), kinds=[AuditKind.PLAYBACK_CONTROL]
        )
        assert {e.actor for e in events} == {
            f"token:{t.token_id}" for t in await tokens.for_guild(GuildId(guild.id))
            if t.scopes & {"playback:control", "queue:write"}
        }  # fmt: skip
