"""Panel basics over the ASGI app: login through a fake Discord (httpx MockTransport), guild list,
per-guild authorization, settings save with clamps, stale versions, headers, OpenAPI coverage.

The `PanelHarness` here is shared by the other ``test_panel_*`` modules.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
import pytest
from starlette.routing import Route

from tests.redis_support import make_track
from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.services import Services, memory_services
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.plans import Tier
from vectobeat_core.queue import GuildQueue
from vectobeat_core.queue_snapshot import PlayerState
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import build_routes, create_app
from vectobeat_panel.auth import safe_next
from vectobeat_panel.openapi import document
from vectobeat_panel.queue_pages import QUEUE_SYNC_DOCUMENT
from vectobeat_panel.security import CSP, RateLimits
from vectobeat_panel.state import Panel, PanelOptions

BRIDGE_TOKEN = "bridge-" + "x" * 40
PRO_GUILD = 111_111_111_111_111_111
FREE_GUILD = 222_222_222_222_222_222
GROWTH_GUILD = 333_333_333_333_333_333
OTHER_GUILD = 444_444_444_444_444_444  # the user is a plain member there
MISSING_GUILD = 555_555_555_555_555_555  # the user manages it; the bot is not in it


@attrs.frozen
class FakeUserGuild:
    id: int
    name: str
    owner: bool = False
    permissions: int = 0


class FakeDiscordOAuth:
    """Discord's token/users/guilds endpoints as an httpx MockTransport, with PKCE checks."""

    def __init__(self) -> None:
        self.user: dict[str, Any] = {"id": "900000000000000001", "username": "alice"}
        self.guilds: list[FakeUserGuild] = []
        self.codes: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.revoked: set[str] = set()
        self.seen_urls: list[str] = []

    def approve(self, authorize_url: str) -> tuple[str, str]:
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["code_challenge_method"] == ["S256"]
        code = secrets.token_urlsafe(8)
        self.codes[code] = query["code_challenge"][0]
        return code, query["state"][0]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen_urls.append(str(request.url))
        path = request.url.path
        if path.endswith("/oauth2/token"):
            form = parse_qs(request.content.decode())
            challenge = self.codes.pop(form["code"][0], None)
            digest = hashlib.sha256(form["code_verifier"][0].encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge is None or challenge != expected:
                return httpx.Response(400, json={"error": "invalid_grant"})
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer"})
        if path.endswith("/oauth2/token/revoke"):
            self.revoked.add(parse_qs(request.content.decode())["token"][0])
            return httpx.Response(200, json={})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return httpx.Response(401, json={"message": "401: Unauthorized"})
        if path.endswith("/users/@me"):
            return httpx.Response(200, json=self.user)
        if path.endswith("/users/@me/guilds"):
            return httpx.Response(
                200,
                json=[
                    {"id": str(g.id), "name": g.name, "owner": g.owner,
                     "permissions": str(g.permissions), "icon": None}
                    for g in self.guilds
                ],
            )  # fmt: skip
        return httpx.Response(404, json={})


def panel_config(**overrides: Any) -> AppConfig:
    base: dict[str, Any] = {
        "discord_client_id": "1100000000000000001",
        "discord_client_secret": Secret("client-secret"),
        "discord_api_base": "http://discord.test/api/v10",
        "bot_bridge_token": Secret(BRIDGE_TOKEN),
        "session_secret": Secret("s" * 48),
        "panel_url": "http://testserver",
        "lavalink_nodes": "us:us-1:http://127.0.0.1:1,eu:eu-1:http://127.0.0.1:2",
    }
    base.update(overrides)
    return AppConfig(**base)


class PanelHarness:
    """One panel app over memory services, a TestClient and a fake Discord."""

    def __init__(self, *, options: PanelOptions | None = None, **config: Any) -> None:
        self.now = 1_800_000_000.0
        self.services: Services = memory_services()
        self.discord = FakeDiscordOAuth()
        self.discord.guilds = [
            FakeUserGuild(PRO_GUILD, "Pro Guild", owner=True),
            FakeUserGuild(FREE_GUILD, "Free Guild", permissions=0x20),
            FakeUserGuild(GROWTH_GUILD, "Growth Guild", permissions=0x8),
            FakeUserGuild(OTHER_GUILD, "Just A Member", permissions=0x400),
            FakeUserGuild(MISSING_GUILD, "No Bot Yet", owner=True),
        ]
        self.app = create_app(
            panel_config(**config),
            self.services,
            options=options or PanelOptions(rate_limits=RateLimits(login_per_minute=10_000)),
            discord_transport=httpx.MockTransport(self.discord.handle),
            clock=lambda: self.now,
        )
        self.panel: Panel = self.app.state.panel
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )
        self.csrf = ""

    async def seed_guilds(self) -> None:
        for gid, name, tier in (
            (PRO_GUILD, "Pro Guild", Tier.PRO),
            (FREE_GUILD, "Free Guild", Tier.FREE),
            (GROWTH_GUILD, "Growth Guild", Tier.GROWTH),
            (OTHER_GUILD, "Just A Member", Tier.SCALE),
        ):
            record = GuildRecord(GuildId(gid), name, tier, True, self.now)
            await self.services.guilds.upsert(record)

    async def login(self, guilds: Sequence[FakeUserGuild] | None = None) -> str:
        if guilds is not None:
            self.discord.guilds = list(guilds)
        start = await self.client.get("/auth/discord?next=/guilds")
        assert start.status_code == 303, start.text
        code, state = self.discord.approve(start.headers["location"])
        done = await self.client.get(f"/auth/callback?code={code}&state={state}")
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/guilds"
        page = await self.client.get("/guilds")
        marker = 'name="csrf_token" value="'
        self.csrf = page.text.split(marker, 1)[1].split('"', 1)[0]
        return self.csrf

    def bot(self) -> dict[str, str]:
        return {"authorization": f"Bearer {BRIDGE_TOKEN}"}


@asynccontextmanager
async def open_harness(
    *, options: PanelOptions | None = None, **config: Any
) -> AsyncIterator[PanelHarness]:
    """A started panel (lifespan entered) with seeded guilds and an HTTP client."""
    h = PanelHarness(options=options, **config)
    async with h.app.router.lifespan_context(h.app), h.client:
        await h.seed_guilds()
        yield h


@pytest.fixture
async def harness() -> AsyncIterator[PanelHarness]:
    async with open_harness() as h:
        yield h


@pytest.mark.anyio
async def test_login_sets_httponly_cookie_and_keeps_discord_token_out(
    harness: PanelHarness,
) -> None:
    start = await harness.client.get("/auth/discord")
    location = start.headers["location"]
    assert location.startswith("http://discord.test/oauth2/authorize?")
    assert "code_challenge=" in location and "state=" in location
    code, state = harness.discord.approve(location)
    done = await harness.client.get(f"/auth/callback?code={code}&state={state}")
    cookie = done.headers["set-cookie"]
    assert "vb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # http panel URL
    (token,) = harness.discord.tokens
    assert token in harness.discord.revoked, "the Discord token is revoked after use"
    assert token not in done.headers.get("location", "") and token not in cookie


@pytest.mark.anyio
async def test_callback_refuses_wrong_state(harness: PanelHarness) -> None:
    start = await harness.client.get("/auth/discord")
    code, _ = harness.discord.approve(start.headers["location"])
    response = await harness.client.get(f"/auth/callback?code={code}&state=forged")
    assert response.status_code == 400
    assert (await harness.client.get("/guilds")).status_code == 303


@pytest.mark.anyio
async def test_a_sign_in_cancelled_on_discord_says_so_and_the_next_one_lands_on_the_guilds(
    harness: PanelHarness,
) -> None:
    start = await harness.client.get("/auth/discord?next=/guilds")
    _, state = harness.discord.approve(start.headers["location"])
    cancelled = await harness.client.get(f"/auth/callback?error=access_denied&state={state}")
    assert cancelled.status_code == 401
    assert "cancelled or refused" in cancelled.text and 'href="/auth/discord?next=/guilds"' in (
        cancelled.text
    )
    assert "/language?set=de&amp;next=/login" in cancelled.text, (
        "switching language: the sign-in page"
    )
    await harness.login()  # the next sign-in ends on the guild list, not back in the callback
    old_callback = await harness.client.get("/login?next=/auth/callback%3Ferror%3Daccess_denied")
    assert old_callback.headers["location"] == "/guilds", "a sign-in never leads back into itself"


@pytest.mark.parametrize("path", ["/auth/callback?error=x", "/auth/discord", "/login", "/logout"])
def test_a_sign_in_never_leads_on_to_the_sign_in(path: str) -> None:
    assert safe_next(path) == "/guilds"
    assert safe_next("/guilds/1/queue?x=/auth/") == "/guilds/1/queue?x=/auth/"


@pytest.mark.anyio
async def test_secure_cookie_under_https() -> None:
    async with open_harness(panel_url="https://panel.example") as h:
        start = await h.client.get("/auth/discord")
        assert "Secure" in start.headers["set-cookie"]
        assert "strict-transport-security" in (await h.client.get("/login")).headers


@pytest.mark.anyio
async def test_guild_list_shows_only_managed_guilds_and_marks_missing_bot(
    harness: PanelHarness,
) -> None:
    await harness.login()
    guilds = (await harness.client.get("/api/control-panel/guilds")).json()["guilds"]
    names = {g["name"]: g for g in guilds}
    assert set(names) == {"Pro Guild", "Free Guild", "Growth Guild", "No Bot Yet"}
    assert names["No Bot Yet"]["bot_present"] is False
    assert "guild_id=555555555555555555" in names["No Bot Yet"]["invite_url"]
    assert names["Pro Guild"]["plan"] == "pro" and names["Pro Guild"]["invite_url"] is None
    page = await harness.client.get("/guilds")
    assert "Just A Member" not in page.text and "Invite the bot" in page.text


@pytest.mark.anyio
async def test_no_session_redirects_pages_and_401s_apis(harness: PanelHarness) -> None:
    for path in (
        "/guilds",
        f"/guilds/{PRO_GUILD}/settings",
        "/nodes",
        f"/guilds/{PRO_GUILD}/audit",
    ):
        response = await harness.client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for path in (
        "/api/control-panel/guilds",
        "/api/control-panel/lavalink/nodes",
        f"/api/control-panel/guilds/{PRO_GUILD}/settings",
        f"/api/control-panel/guilds/{PRO_GUILD}/queue",
    ):
        response = await harness.client.get(path)
        assert response.status_code == 401 and "Sign in" in response.json()["error"]


@pytest.mark.anyio
async def test_non_manager_gets_403_everywhere(harness: PanelHarness) -> None:
    csrf = await harness.login()
    base = f"/guilds/{OTHER_GUILD}"
    for path in ("", "/settings", "/routing", "/queue", "/queue/events", "/audit", "/audit.jsonl",
                 "/tokens"):  # fmt: skip
        assert (await harness.client.get(base + path)).status_code == 403, path
    api = f"/api/control-panel/guilds/{OTHER_GUILD}"
    for path in ("/settings", "/routing", "/queue", "/audit", "/tokens"):
        response = await harness.client.get(api + path)
        assert response.status_code == 403 and "do not manage" in response.json()["error"]
    put = await harness.client.put(
        api + "/settings",
        json={"version": 0, "settings": {"queue_limit": 5}},
        headers={"x-csrf-token": csrf},
    )
    assert put.status_code == 403
    form = await harness.client.post(
        base + "/settings", data={"csrf_token": csrf, "base_version": "0"}
    )
    assert form.status_code == 403
    assert (await harness.services.settings.get(GuildId(OTHER_GUILD))) is None


@pytest.mark.anyio
async def test_form_without_csrf_is_refused(harness: PanelHarness) -> None:
    await harness.login()
    response = await harness.client.post(
        f"/guilds/{PRO_GUILD}/settings", data={"base_version": "0", "queue_limit": "5"}
    )
    assert response.status_code == 403 and "CSRF" in response.text
    wrong = await harness.client.post(
        f"/guilds/{PRO_GUILD}/settings",
        data={"base_version": "0", "queue_limit": "5", "csrf_token": "nope"},
    )
    assert wrong.status_code == 403
    api = await harness.client.put(
        f"/api/control-panel/guilds/{PRO_GUILD}/settings",
        json={"version": 0, "settings": {"queue_limit": 5}},
    )
    assert api.status_code == 403
    assert (await harness.client.post("/logout")).status_code == 403
    assert (await harness.services.settings.get(GuildId(PRO_GUILD))) is None


def _form(csrf: str, version: int, **fields: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "base_version": str(version), "collaborative_queue": "on"}
    data.update(fields)
    return data


@pytest.mark.anyio
async def test_settings_save_clamps_on_pro_and_explains(harness: PanelHarness) -> None:
    csrf = await harness.login()
    page = await harness.client.get(f"/guilds/{PRO_GUILD}/settings")
    assert page.status_code == 200
    assert "needs Growth" in page.text  # region options above the plan are shown, disabled
    assert "24/7 mode" in page.text and "Vote-skip share (%)" in page.text
    free = await harness.client.get(f"/guilds/{FREE_GUILD}/settings")
    locked = r'id="f-stay_connected"\s+disabled> 24/7 mode <span class="needs">needs Starter'
    assert re.search(locked, free.text)  # a feature the plan lacks is shown, locked
    assert '<option value="eu"' in page.text and "disabled" in page.text
    response = await harness.client.post(
        f"/guilds/{PRO_GUILD}/settings",
        data=_form(csrf, 0, queue_limit="100000", region="eu", default_volume="80"),
    )
    assert response.status_code == 200, response.text
    assert "Saved version 1" in response.text
    assert 'data-field="queue_limit"' in response.text and 'data-field="region"' in response.text
    assert "needs Growth or higher" in response.text
    record = await harness.services.settings.get(GuildId(PRO_GUILD))
    plan = harness.services.catalogue.plan(Tier.PRO)
    assert record is not None and record.version == 1
    assert record.settings.queue_limit == plan.queue_cap
    assert record.settings.region.value == "auto" and record.settings.default_volume == 80
    kinds = [e.kind.value for e in (await harness.services.audit.recent(GuildId(PRO_GUILD)))]
    assert "settings_changed" in kinds and "settings_clamped" in kinds
    history = await harness.services.settings.history(GuildId(PRO_GUILD))
    assert [r.version for r in history] == [1]


@pytest.mark.anyio
async def test_growth_guild_may_pin_region(harness: PanelHarness) -> None:
    csrf = await harness.login()
    response = await harness.client.post(
        f"/guilds/{GROWTH_GUILD}/settings", data=_form(csrf, 0, region="eu", queue_limit="200")
    )
    assert response.status_code == 200 and 'id="clamps"' not in response.text
    routing = (await harness.client.get(f"/api/control-panel/guilds/{GROWTH_GUILD}/routing")).json()
    assert routing["decision"]["effective"] == "eu"
    assert {r["region"] for r in routing["regions"]} >= {"us", "eu", "apac"}


@pytest.mark.anyio
async def test_stale_save_keeps_the_edits_and_shows_what_is_saved(harness: PanelHarness) -> None:
    csrf = await harness.login()
    first = await harness.client.post(
        f"/guilds/{FREE_GUILD}/settings", data=_form(csrf, 0, queue_limit="42")
    )
    assert first.status_code == 200
    stale = await harness.client.post(
        f"/guilds/{FREE_GUILD}/settings", data=_form(csrf, 0, queue_limit="7")
    )
    assert stale.status_code == 409
    assert "This server&#39;s settings was changed by someone else" in stale.text
    assert 'name="queue_limit" id="f-queue_limit" value="7"' in stale.text  # the edit is kept
    assert 'data-field="queue_limit">Saved now: 42<' in stale.text  # beside what is saved
    assert 'name="base_version" value="1"' in stale.text  # saving again applies over it
    record = await harness.services.settings.get(GuildId(FREE_GUILD))
    assert record is not None
    assert record.settings.queue_limit == 42 and record.version == 1
    api = await harness.client.put(
        f"/api/control-panel/guilds/{FREE_GUILD}/settings",
        json={"version": 0, "settings": {"queue_limit": 9}},
        headers={"x-csrf-token": csrf},
    )
    assert api.status_code == 409 and api.json()["current_version"] == 1


@pytest.mark.anyio
async def test_logout_revokes_the_session(harness: PanelHarness) -> None:
    csrf = await harness.login()
    cookie = harness.client.cookies.get("vb_session")
    assert (await harness.client.post("/logout", data={"csrf_token": csrf})).status_code == 303
    harness.client.cookies.set("vb_session", cookie or "")
    assert (await harness.client.get("/api/control-panel/guilds")).status_code == 401


@pytest.mark.anyio
async def test_signing_out_and_in_again_at_once_is_within_the_default_limit() -> None:
    """The sign-in page is not counted: two whole sign-ins in one window pass, then 5 a window."""
    async with open_harness(options=PanelOptions()) as h:
        for _ in range(2):
            assert (await h.client.get("/login")).status_code == 200
            csrf = await h.login()
            assert (await h.client.post("/logout", data={"csrf_token": csrf})).status_code == 303
        for _ in range(3):
            assert (await h.client.get("/login")).status_code == 200
        assert (await h.client.get("/auth/discord?next=/guilds")).status_code == 303
        refused = await h.client.get("/auth/discord?next=/guilds")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


@pytest.mark.anyio
async def test_security_headers_on_every_response(harness: PanelHarness) -> None:
    for path in ("/login", "/api/openapi.json", "/static/panel.css", "/nope"):
        headers = (await harness.client.get(path)).headers
        assert headers["content-security-policy"] == CSP, path
        assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    html = (await harness.client.get("/login")).text
    assert "<script>" not in html and "style=" not in html and "onclick" not in html


def _api_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in build_routes():
        if isinstance(route, Route) and route.path.startswith("/api/"):
            path = route.path_format
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((path, method.lower()))
    return found


@pytest.mark.anyio
async def test_openapi_matches_routes(harness: PanelHarness) -> None:
    served = (await harness.client.get("/api/openapi.json")).json()
    assert served == json.loads(json.dumps(document()))
    documented = {(p, m) for p, ops in served["paths"].items() for m in ops}
    assert documented == _api_routes()


@pytest.mark.anyio
async def test_nodes_api_lists_configured_and_reported_nodes(harness: PanelHarness) -> None:
    from vectobeat_core.health import NodeHealth, NodeStatus
    from vectobeat_core.ids import NodeName

    await harness.login()
    health = NodeHealth(
        node=NodeName("us-1"), status=NodeStatus.UP, last_latency_ms=12.5,
        last_check_at=harness.now, since=harness.now - 60,
    )  # fmt: skip
    await harness.services.health.put(health, ttl=60)
    stats: JSON = {"players": 3, "playingPlayers": 2, "uptime": 1, "memory": {"used": 1, "free": 1,
             "allocated": 1, "reservable": 1}, "cpu": {"cores": 2, "systemLoad": 0.1,
             "lavalinkLoad": 0.1}}  # fmt: skip
    await harness.services.telemetry.put("lavalink-stats:us-1", stats, 60)
    nodes = {
        n["name"]: n
        for n in (await harness.client.get("/api/control-panel/lavalink/nodes")).json()["nodes"]
    }
    assert nodes["us-1"] == {
        "name": "us-1", "region": "us", "status": "up", "players": 3, "latency_ms": 12.5,
        "last_check_at": harness.now, "last_failover_at": None,
    }  # fmt: skip
    assert nodes["eu-1"]["status"] == "unknown" and nodes["eu-1"]["region"] == "eu"
    page = await harness.client.get("/nodes")
    assert page.status_code == 200 and "<svg" in page.text and "us-1" in page.text


@pytest.mark.anyio
async def test_health_endpoint(harness: PanelHarness) -> None:
    # memory services: no SQL and no Redis to report
    assert (await harness.client.get("/api/health")).json() == {"status": "ok", "dependencies": {}}


@pytest.mark.anyio
async def test_every_form_control_has_a_label(harness: PanelHarness) -> None:
    from html.parser import HTMLParser

    class Controls(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str] = []
            self.fors: set[str] = set()
            self.depth = 0  # inside a <label>
            self.unlabelled: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "label":
                self.depth += 1
                if a.get("for"):
                    self.fors.add(a["for"] or "")
            elif (
                tag in ("input", "select")
                and a.get("type") not in ("hidden", "submit")
                and self.depth == 0
            ):
                self.ids.append(a.get("id") or f"<{tag} name={a.get('name')}>")

        def handle_endtag(self, tag: str) -> None:
            if tag == "label":
                self.depth -= 1

    await harness.login()
    for path in (f"/guilds/{PRO_GUILD}/settings", f"/guilds/{PRO_GUILD}/tokens",
                 f"/guilds/{PRO_GUILD}/audit"):  # fmt: skip
        parser = Controls()
        parser.feed((await harness.client.get(path)).text)
        missing = [i for i in parser.ids if i not in parser.fors]
        assert missing == [], path


@pytest.mark.anyio
async def test_sign_out_everywhere_revokes_other_browsers() -> None:
    async with open_harness() as first:
        csrf = await first.login()
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first.app), base_url="http://testserver"
        )
        async with other:
            start = await other.get("/auth/discord")
            code, state = first.discord.approve(start.headers["location"])
            await other.get(f"/auth/callback?code={code}&state={state}")
            assert (await other.get("/api/control-panel/guilds")).status_code == 200
            done = await first.client.post("/logout/all", data={"csrf_token": csrf})
            assert done.status_code == 303
            assert (await other.get("/api/control-panel/guilds")).status_code == 401
        assert (await first.client.get("/api/control-panel/guilds")).status_code == 401


async def _playing_on(
    harness: PanelHarness, guild: int, node: str, region: str, *, loop: str = "off"
) -> None:
    """The bot's queue sync says ``guild`` plays on ``node`` in ``region`` now (looping
    ``loop``)."""
    queue = GuildQueue(GuildId(guild))
    queue.add(make_track(1))
    queue.next()
    queue.set_loop(loop)
    snapshot = queue.snapshot(PlayerState(node=NodeName(node), region=region), time.time())
    await harness.services.telemetry.put(
        QUEUE_SYNC_DOCUMENT.format(guild=guild), snapshot.to_json(), 60
    )


@pytest.mark.anyio
async def test_routing_shows_where_a_pinned_guild_plays_now_and_why(harness: PanelHarness) -> None:
    csrf = await harness.login()
    saved = await harness.client.post(
        f"/guilds/{GROWTH_GUILD}/settings", data=_form(csrf, 0, region="apac", queue_limit="200")
    )
    assert saved.status_code == 200
    api = f"/api/control-panel/guilds/{GROWTH_GUILD}/routing"
    assert (await harness.client.get(api)).json()["playing"] is None

    await _playing_on(harness, GROWTH_GUILD, "eu-1", "eu")  # apac had no healthy node
    routing = (await harness.client.get(api)).json()
    assert routing["decision"]["effective"] == "apac"
    assert routing["playing"] == {
        "region": "eu",
        "node": "eu-1",
        "displaced": True,
        "reason": "Playing in eu: apac has no healthy Lavalink node; it returns at a track "
        "change once apac is healthy.",
    }
    page = await harness.client.get(f"/guilds/{GROWTH_GUILD}/routing")
    assert "outside its region" in page.text and "Playing in eu: apac has no healthy" in page.text

    await _playing_on(harness, GROWTH_GUILD, "apac-1", "apac")  # back home
    back = (await harness.client.get(api)).json()["playing"]
    assert back["displaced"] is False and back["reason"] == "Playing in apac, as planned."

    await _playing_on(harness, GROWTH_GUILD, "odd-1", "auto")  # no concrete region: not guessed
    odd = (await harness.client.get(api)).json()["playing"]
    assert odd == {"region": "unknown", "node": "odd-1", "displaced": False, "reason": None}


@pytest.mark.anyio
async def test_the_member_track_limit_is_shown_and_saved(harness: PanelHarness) -> None:
    csrf = await harness.login()
    page = await harness.client.get(f"/guilds/{FREE_GUILD}/settings")
    assert "Tracks per member" in page.text
    assert "Most upcoming tracks one member may have queued (0: no limit)" in page.text
    bad = await harness.client.post(
        f"/guilds/{FREE_GUILD}/settings", data=_form(csrf, 0, member_track_limit="-1")
    )
    assert bad.status_code == 400 and "member_track_limit" in bad.text
    saved = await harness.client.post(
        f"/guilds/{FREE_GUILD}/settings", data=_form(csrf, 0, member_track_limit="3")
    )
    assert saved.status_code == 200, saved.text
    record = await harness.services.settings.get(GuildId(FREE_GUILD))
    assert record is not None and record.settings.member_track_limit == 3
