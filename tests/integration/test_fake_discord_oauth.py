"""The fake OAuth2 provider: authorization code + PKCE + state, token exchange, Bearer reads."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from vectobeat_core.ids import GuildId
from vectobeat_testkit.discord import MANAGE_GUILD, FakeDiscord, UserGuild

APP_ID = 555000111222333444
SECRET = "panel-client-secret"
REDIRECT = "http://127.0.0.1:9/auth/callback"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        application_id=APP_ID, client_secret=SECRET, redirect_uris=[REDIRECT]
    ) as fake:
        user = fake.add_user("alice", email="alice@example.test")
        fake.set_oauth_user(
            user,
            [
                UserGuild(id=GuildId(1), name="Mine", owner=True, permissions=2**40 - 1),
                UserGuild(id=GuildId(2), name="Modded", permissions=MANAGE_GUILD),
            ],
        )
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


async def authorize(
    http: aiohttp.ClientSession, fake: FakeDiscord, **overrides: str
) -> tuple[int, dict[str, list[str]], str]:
    params = {
        "client_id": str(APP_ID),
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "identify guilds email",
        "state": "s-123",
    }
    params.update(overrides)
    async with http.get(fake.authorize_url, params=params, allow_redirects=False) as response:
        location = response.headers.get("Location", "")
        return (
            response.status,
            parse_qs(urlsplit(location).query),
            location or await response.text(),
        )


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def exchange(
    http: aiohttp.ClientSession,
    fake: FakeDiscord,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with http.post(fake.token_url, data=form, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.anyio
async def test_code_flow_with_pkce_and_bearer_reads(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    verifier, challenge = pkce()
    status, query, location = await authorize(
        http, fake, code_challenge=challenge, code_challenge_method="S256"
    )
    assert status == 302
    assert location.startswith(REDIRECT + "?")
    assert query["state"] == ["s-123"]
    code = query["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    status, token = await exchange(http, fake, form, basic(str(APP_ID), SECRET))
    assert status == 200
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "identify guilds email"
    assert token["expires_in"] > 0
    assert token["refresh_token"]
    status, again = await exchange(http, fake, form, basic(str(APP_ID), SECRET))
    assert (status, again["error"]) == (400, "invalid_grant")

    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    async with http.get(f"{fake.api_base}/users/@me", headers=bearer) as response:
        me = await response.json()
    assert me["username"] == "alice"
    assert me["email"] == "alice@example.test"
    async with http.get(f"{fake.api_base}/users/@me/guilds", headers=bearer) as response:
        guilds = await response.json()
    assert guilds[0] == {
        "id": "1",
        "name": "Mine",
        "icon": None,
        "banner": None,
        "owner": True,
        "permissions": str(2**40 - 1),
        "features": [],
    }
    assert guilds[1]["permissions"] == str(MANAGE_GUILD)

    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": str(APP_ID),
        "client_secret": SECRET,
    }
    status, renewed = await exchange(http, fake, refresh)
    assert status == 200
    assert renewed["access_token"] != token["access_token"]
    status, reused = await exchange(http, fake, refresh)
    assert (status, reused["error"]) == (400, "invalid_grant")


@pytest.mark.anyio
async def test_pkce_verifier_client_and_redirect_are_checked(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    _, challenge = pkce()
    _, query, _ = await authorize(
        http, fake, code_challenge=challenge, code_challenge_method="S256"
    )
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "code_verifier": "wrong",
        "client_id": str(APP_ID),
        "client_secret": SECRET,
    }
    status, body = await exchange(http, fake, form)
    assert status == 400
    assert body == {
        "error": "invalid_grant",
        "error_description": 'Invalid "code_verifier" in request.',
    }

    _, query, _ = await authorize(http, fake)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "client_id": str(APP_ID),
        "client_secret": "nope",
    }
    status, body = await exchange(http, fake, form)
    assert (status, body["error"]) == (401, "invalid_client")
    form["client_secret"], form["redirect_uri"] = SECRET, REDIRECT + "/other"
    status, body = await exchange(http, fake, form)
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await exchange(
        http, fake, {"grant_type": "password", "client_id": str(APP_ID), "client_secret": SECRET}
    )
    assert (status, body["error"]) == (400, "unsupported_grant_type")


@pytest.mark.anyio
async def test_authorize_errors(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    status, _, text = await authorize(http, fake, redirect_uri="http://evil.test/cb")
    assert status == 400
    assert "redirect_uri" in text
    status, query, _ = await authorize(http, fake, scope="identify nonsense")
    assert status == 302
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == ["s-123"]
    status, query, _ = await authorize(
        http, fake, code_challenge="abc", code_challenge_method="plain"
    )
    assert query["error"] == ["invalid_request"]
    status, query, _ = await authorize(http, fake, response_type="token")
    assert query["error"] == ["unsupported_response_type"]


@pytest.mark.anyio
async def test_consent_page_when_not_auto_approved(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.oauth.auto_approve = False
    status, _, page = await authorize(http, fake)
    assert status == 200
    assert "<form" in page
    assert 'name="state" value="s-123"' in page
    form = {
        "client_id": str(APP_ID),
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "identify",
        "state": "s-123",
    }
    async with http.post(
        fake.authorize_url, data=form | {"approve": "0"}, allow_redirects=False
    ) as response:
        assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["access_denied"]
    async with http.post(
        fake.authorize_url, data=form | {"approve": "1"}, allow_redirects=False
    ) as response:
        query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["code"]
    assert query["state"] == ["s-123"]


@pytest.mark.anyio
async def test_bearer_needs_a_valid_token_and_scope(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        f"{fake.api_base}/users/@me/guilds", headers={"Authorization": "Bearer nope"}
    ) as response:
        assert response.status == 401
        assert (await response.json())["code"] == 0
    _, query, _ = await authorize(http, fake, scope="identify")
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "client_id": str(APP_ID),
        "client_secret": SECRET,
    }
    _, token = await exchange(http, fake, form)
    async with http.get(
        f"{fake.api_base}/users/@me/guilds",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ) as response:
        assert response.status == 401
