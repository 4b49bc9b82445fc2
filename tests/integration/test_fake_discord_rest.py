"""The fake REST API at the HTTP level: shapes, errors and rate-limit headers like Discord's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest

from vectobeat_testkit.discord import FakeDiscord, FakeGuild

TOKEN = "rest-test-token"
APP_ID = 987654321098765432
BOT = {"Authorization": f"Bot {TOKEN}"}
RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "X-RateLimit-Bucket",
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        token=TOKEN, application_id=APP_ID, recommended_shards=3, clock=clock, rate_limit=5
    ) as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def guild(fake: FakeDiscord) -> FakeGuild:
    return await fake.add_guild(name="Guild", owner=fake.add_user("owner"), roles=[("DJ", 0)])


async def call(
    http: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str, **kwargs: Any
) -> tuple[int, Any, Any]:
    kwargs.setdefault("headers", BOT)
    async with http.request(method, fake.api_base + path, **kwargs) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body, response.headers


@pytest.mark.anyio
async def test_gateway_me_and_application(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    status, body, headers = await call(http, fake, "GET", "/gateway/bot")
    assert status == 200
    assert body["url"] == fake.gateway_url
    assert body["shards"] == 3
    assert set(body["session_start_limit"]) == {
        "total",
        "remaining",
        "reset_after",
        "max_concurrency",
    }
    assert headers["Content-Type"] == "application/json"
    assert all(name in headers for name in RATE_HEADERS)
    _, me, _ = await call(http, fake, "GET", "/users/@me")
    assert me["id"] == str(APP_ID)
    assert me["bot"] is True
    for path in ("/applications/@me", "/oauth2/applications/@me"):
        _, app, _ = await call(http, fake, "GET", path)
        assert app["id"] == str(APP_ID)
        assert app["bot_public"] is True
        assert "owner" in app
        assert "verify_key" in app


@pytest.mark.anyio
async def test_errors_have_discord_shape(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    status, body, headers = await call(
        http, fake, "GET", "/users/@me", headers={"Authorization": "Bot wrong"}
    )
    assert (status, body) == (401, {"message": "401: Unauthorized", "code": 0})
    assert "X-RateLimit-Bucket" in headers
    status, body, _ = await call(http, fake, "GET", "/no/such/route")
    assert (status, body) == (404, {"message": "404: Not Found", "code": 0})
    status, body, _ = await call(http, fake, "POST", "/channels/1/messages", json={"content": "x"})
    assert (status, body) == (404, {"message": "Unknown Channel", "code": 10003})
    status, body, _ = await call(http, fake, "GET", "/guilds/42")
    assert (status, body["code"]) == (404, 10004)
    status, body, _ = await call(http, fake, "GET", f"/guilds/{guild.id}/members/42")
    assert (status, body["code"]) == (404, 10007)


@pytest.mark.anyio
async def test_rate_limit_window_and_429(
    fake: FakeDiscord, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    remaining = [
        int((await call(http, fake, "GET", "/users/@me"))[2]["X-RateLimit-Remaining"])
        for _ in range(5)
    ]
    assert remaining == [4, 3, 2, 1, 0]
    status, body, headers = await call(http, fake, "GET", "/users/@me")
    assert status == 429
    assert body["global"] is False
    assert body["retry_after"] > 0
    assert headers["X-RateLimit-Scope"] == "user"
    clock.now += 1.0
    status, _, headers = await call(http, fake, "GET", "/users/@me")
    assert status == 200
    assert headers["X-RateLimit-Remaining"] == "4"
    fake.force_rate_limit(2.5)
    status, body, _ = await call(http, fake, "GET", "/gateway/bot")
    assert status == 429
    assert body["retry_after"] == 2.5


@pytest.mark.anyio
async def test_guild_reads(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    _, body, _ = await call(http, fake, "GET", f"/guilds/{guild.id}")
    assert body["id"] == str(guild.id)
    assert body["owner_id"] == str(guild.owner_id)
    _, channels, _ = await call(http, fake, "GET", f"/guilds/{guild.id}/channels")
    assert sorted(c["type"] for c in channels) == [0, 2]
    _, roles, _ = await call(http, fake, "GET", f"/guilds/{guild.id}/roles")
    assert [r["name"] for r in roles] == ["@everyone", "DJ"]
    assert isinstance(roles[0]["permissions"], str)
    _, member, _ = await call(http, fake, "GET", f"/guilds/{guild.id}/members/{guild.owner_id}")
    assert member["user"]["id"] == str(guild.owner_id)


@pytest.mark.anyio
async def test_command_bulk_overwrite_global_and_guild(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    commands = [
        {
            "name": "play",
            "description": "Play",
            "type": 1,
            "options": [{"name": "query", "type": 3, "description": "q", "required": True}],
        }
    ]
    status, first, _ = await call(
        http, fake, "PUT", f"/applications/{APP_ID}/commands", json=commands
    )
    assert status == 200
    assert first[0]["name"] == "play"
    assert first[0]["application_id"] == str(APP_ID)
    _, again, _ = await call(http, fake, "PUT", f"/applications/{APP_ID}/commands", json=commands)
    assert again[0]["id"] == first[0]["id"]
    _, listed, _ = await call(http, fake, "GET", f"/applications/{APP_ID}/commands")
    assert [c["name"] for c in listed] == ["play"]
    _, scoped, _ = await call(
        http,
        fake,
        "PUT",
        f"/applications/{APP_ID}/guilds/{guild.id}/commands",
        json=[{"name": "dj", "description": "DJ"}],
    )
    assert scoped[0]["guild_id"] == str(guild.id)
    status, body, _ = await call(
        http,
        fake,
        "PUT",
        f"/applications/{APP_ID}/commands",
        json=[{"name": "x", "description": ""}],
    )
    assert status == 400
    assert body["code"] == 50035
    assert "_errors" in body["errors"]["0"]["description"]
    assert [r.kind for r in fake.recorded] == ["commands_overwrite"] * 3


@pytest.mark.anyio
async def test_channel_messages(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    text = next(c for c in guild.channels if not c.is_voice)
    status, msg, _ = await call(
        http,
        fake,
        "POST",
        f"/channels/{text.id}/messages",
        json={"content": "hello", "embeds": [{"title": "t"}]},
    )
    assert status == 200
    assert msg["content"] == "hello"
    assert msg["author"]["id"] == str(APP_ID)
    status, body, _ = await call(http, fake, "POST", f"/channels/{text.id}/messages", json={})
    assert (status, body["code"]) == (400, 50006)
    status, body, _ = await call(
        http, fake, "POST", f"/channels/{text.id}/messages", json={"content": "x" * 2001}
    )
    assert status == 400
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    too_long = {"embeds": [{"title": "ok", "description": "d" * 4097}]}
    status, body, _ = await call(http, fake, "POST", f"/channels/{text.id}/messages", json=too_long)
    assert status == 400
    assert (
        body["errors"]["embeds"]["0"]["description"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    )
    _, edited, _ = await call(
        http, fake, "PATCH", f"/channels/{text.id}/messages/{msg['id']}", json={"content": "bye"}
    )
    assert edited["content"] == "bye"
    assert edited["embeds"] == [{"title": "t"}]
    assert edited["edited_timestamp"]
    assert [m.content for m in fake.channel_messages(text.id)] == ["bye"]
    status, _, _ = await call(http, fake, "DELETE", f"/channels/{text.id}/messages/{msg['id']}")
    assert status == 204
    status, body, _ = await call(http, fake, "GET", f"/channels/{text.id}/messages/{msg['id']}")
    assert (status, body["code"]) == (404, 10008)
    assert [r.kind for r in fake.recorded] == ["channel_message", "edit_message", "delete_message"]


@pytest.mark.anyio
async def test_interaction_defer_edit_followup(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    text = next(c for c in guild.channels if not c.is_voice)
    record = await fake.slash(
        guild_id=guild.id,
        channel_id=text.id,
        user_id=guild.owner_id,
        name="queue",
        options={"page": 2},
    )
    data = record.payload
    assert data["type"] == 2
    assert data["version"] == 1
    assert data["data"]["options"] == [{"name": "page", "type": 4, "value": 2}]
    assert int(data["member"]["permissions"]) > 0
    assert data["app_permissions"]
    base = f"/interactions/{record.id}/{record.token}/callback"
    status, body, _ = await call(
        http,
        fake,
        "POST",
        base + "?with_response=true",
        headers={},
        json={"type": 5, "data": {"flags": 64}},
    )
    assert status == 200
    assert body["interaction"]["response_message_loading"] is True
    assert body["interaction"]["response_message_ephemeral"] is True
    assert body["resource"]["type"] == 5
    assert body["resource"]["message"]["flags"] == 64 | 128
    status, body, _ = await call(
        http, fake, "POST", base, headers={}, json={"type": 4, "data": {"content": "late"}}
    )
    assert (status, body["code"]) == (400, 40060)
    hook = f"/webhooks/{APP_ID}/{record.token}"
    _, original, _ = await call(
        http, fake, "PATCH", hook + "/messages/@original", headers={}, json={"content": "page 2"}
    )
    assert original["content"] == "page 2"
    assert original["flags"] == 64
    status, follow, _ = await call(
        http, fake, "POST", hook + "?wait=true", headers={}, json={"content": "more", "flags": 64}
    )
    assert status == 200
    assert follow["content"] == "more"
    _, follow2, _ = await call(
        http,
        fake,
        "PATCH",
        f"{hook}/messages/{follow['id']}",
        headers={},
        json={"content": "more!"},
    )
    assert follow2["content"] == "more!"
    status, _, _ = await call(http, fake, "DELETE", hook + "/messages/@original", headers={})
    assert status == 204
    status, body, _ = await call(http, fake, "GET", hook + "/messages/@original", headers={})
    assert (status, body["code"]) == (404, 10008)
    kinds = [r.kind for r in fake.recorded]
    assert kinds == [
        "interaction_callback",
        "edit_original",
        "followup",
        "edit_followup",
        "delete_original",
    ]
    response = await fake.wait_for_response(record.id, timeout=1)
    assert response.deferred
    assert response.ephemeral
    assert [m.content for m in record.followups] == ["more!"]


@pytest.mark.anyio
async def test_interaction_errors_and_deadline(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild, clock: ManualClock
) -> None:
    text = next(c for c in guild.channels if not c.is_voice)
    record = await fake.slash(
        guild_id=guild.id, channel_id=text.id, user_id=guild.owner_id, name="ping"
    )
    status, body, _ = await call(
        http,
        fake,
        "POST",
        f"/interactions/{record.id}/wrong/callback",
        headers={},
        json={"type": 4, "data": {"content": "x"}},
    )
    assert (status, body["code"]) == (404, 10062)
    status, body, _ = await call(
        http,
        fake,
        "POST",
        f"/webhooks/{APP_ID}/{record.token}",
        headers={},
        json={"content": "too early"},
    )
    assert (status, body["code"]) == (404, 10015)
    status, body, _ = await call(
        http,
        fake,
        "POST",
        f"/interactions/{record.id}/{record.token}/callback",
        headers={},
        json={"type": 8, "data": {"choices": []}},
    )
    assert (status, body["code"]) == (400, 50035)
    clock.now += 3.5
    status, body, _ = await call(
        http,
        fake,
        "POST",
        f"/interactions/{record.id}/{record.token}/callback",
        headers={},
        json={"type": 4, "data": {"content": "x"}},
    )
    assert (status, body["code"]) == (404, 10062)
    assert record.response is None


@pytest.mark.anyio
async def test_control_surface(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    async def control(method: str, path: str, **kwargs: Any) -> Any:
        async with http.request(method, f"{fake.base_url}/_fake{path}", **kwargs) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    user = await control("POST", "/users", json={"username": "carol"})
    guild = await control(
        "POST",
        "/guilds",
        json={"name": "Ops", "owner_id": user["id"], "roles": [["DJ", 32]], "members": []},
    )
    text = next(c for c in guild["channels"] if c["type"] == 0)
    slash = await control(
        "POST",
        "/interactions/slash",
        json={
            "guild_id": guild["id"],
            "channel_id": text["id"],
            "user_id": user["id"],
            "name": "ping",
            "options": {},
        },
    )
    async with http.post(
        f"{fake.api_base}/interactions/{slash['id']}/{slash['token']}/callback",
        json={"type": 4, "data": {"content": "pong"}},
    ) as response:
        assert response.status == 204
    seen = await control("GET", f"/interactions/{slash['id']}?wait=1")
    assert seen["response"]["type"] == 4
    assert seen["original"]["content"] == "pong"
    recorded = await control("GET", "/recorded")
    assert [r["kind"] for r in recorded] == ["interaction_callback"]
    state = await control("GET", "/state")
    assert state["api_base"] == fake.api_base
    assert len(state["guilds"]) == 1
    async with http.post(
        f"{fake.base_url}/_fake/voice",
        json={"guild_id": guild["id"], "user_id": user["id"], "channel_id": text["id"]},
    ) as response:
        assert response.status == 404


@pytest.mark.anyio
async def test_a_deferred_command_answered_by_a_followup_is_answered(
    fake: FakeDiscord, http: aiohttp.ClientSession, guild: FakeGuild
) -> None:
    """The sandbox's `send` waits for this: a bot that defers, then answers with a follow-up
    and leaves the original "thinking", has answered (no 20 s wait, no "did not answer")."""
    text = next(c for c in guild.channels if not c.is_voice)
    record = await fake.slash(
        guild_id=guild.id, channel_id=text.id, user_id=guild.owner_id, name="play", options={}
    )
    base = f"/interactions/{record.id}/{record.token}/callback"
    await call(http, fake, "POST", base, headers={}, json={"type": 5})
    hook = f"/webhooks/{APP_ID}/{record.token}"
    await call(
        http, fake, "POST", hook, headers={}, json={"content": "Nothing found.", "flags": 64}
    )
    with anyio.fail_after(5):
        answer = await fake.wait_for_answer(record.id, timeout=5)
    assert answer.content == "Nothing found."
