"""The panel with real Redis and real PostgreSQL behind fault proxies: when either is cut (reset)
or blackholed (open, silent), every page and API answers 503 with a message naming it, inside
``STORE_TIMEOUT``, with one warning line and no traceback; after ``heal()`` pages work again."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import anyio
import attrs
import httpx
import pytest

from tests.conftest import service_url
from tests.sql_support import private_database
from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.services import Services, open_services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.errors import OutcomeUnknown
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.sessions import ManagedGuild
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.service("redis"), pytest.mark.service("postgres")]

TOKEN = "faults-bridge-" + "f" * 32
STORE_TIMEOUT = 1.0
HANG_GUARD = 20.0  # far above STORE_TIMEOUT: only there so a hang fails instead of blocking


@attrs.frozen
class World:
    client: httpx.AsyncClient
    redis: FaultProxy
    sql: FaultProxy
    guild: GuildId
    services: Services
    transport: httpx.ASGITransport


def _behind(url: str, proxy: FaultProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    where = f"{netloc[0]}@{proxy.url_host}" if len(netloc) == 2 else proxy.url_host
    return parts._replace(netloc=where).geturl()


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


@pytest.fixture
async def world() -> AsyncIterator[World]:
    redis_url = service_url("redis")
    async with (
        private_database(service_url("postgres")) as pg_url,
        FaultProxy(_port(redis_url, 6379)) as redis_proxy,
        FaultProxy(_port(pg_url, 5432)) as sql_proxy,
    ):
        config = AppConfig(
            database_url=_behind(pg_url, sql_proxy),
            redis_url=_behind(redis_url, redis_proxy),
            bot_bridge_token=Secret(TOKEN),
            session_secret=Secret("faults-session-" + "s" * 32),
            store_timeout=STORE_TIMEOUT,
        )
        guild = GuildId(876_543_210_987_654_321 + secrets.randbelow(10**6))
        async with open_services(config) as services:
            now = services.clock.now()
            await services.guilds.upsert(GuildRecord(guild, "Faults", Tier.PRO, True, now))
            app = create_app(config, services)
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://panel") as client,
            ):
                panel = app.state.panel
                session = await panel.sessions.create(
                    user_id=UserId(1), username="faults", avatar=None,
                    guilds=(ManagedGuild(guild, "Faults", None, True, 0),), now=now, ttl=600,
                )  # fmt: skip
                client.cookies.set("vb_session", panel.signer.sign(session.id).decode())
                yield World(client, redis_proxy, sql_proxy, guild, services, transport)


def _needs(guild: int) -> dict[str, list[str]]:
    """The paths that need each backend (signed-in pages all need Redis: sessions live there)."""
    signed_in_sql = [
        f"/guilds/{guild}/settings",
        f"/guilds/{guild}/audit",
        f"/guilds/{guild}/audit.jsonl",
        f"/api/control-panel/guilds/{guild}/settings",
        f"/api/control-panel/guilds/{guild}/audit",
    ]
    bridge = [f"/api/bot/server-settings?guild_id={guild}"]  # a bearer token: SQL only
    queue = [f"/guilds/{guild}/queue", f"/api/control-panel/guilds/{guild}/queue"]  # Redis only
    return {"redis": signed_in_sql + queue, "sql": signed_in_sql + bridge}


def _paths(guild: int) -> list[str]:
    return sorted({path for paths in _needs(guild).values() for path in paths})


async def _get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {TOKEN}"} if path.startswith("/api/bot/") else None
    with anyio.fail_after(HANG_GUARD):
        return await client.get(path, headers=headers)


def _assert_unavailable(response: httpx.Response, path: str, dependency: str) -> None:
    assert response.status_code == 503, (path, response.status_code, response.text[:300])
    assert response.headers["retry-after"]
    if path.startswith("/api/"):
        assert dependency in response.json()["error"], response.text
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert dependency in response.text


def _assert_quiet(caplog: pytest.LogCaptureFixture, dependency: str) -> None:
    """One concise warning per failed request, naming the dependency; no traceback anywhere."""
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    warned = [r for r in caplog.records if r.getMessage() == "dependency_unavailable"]
    assert warned and all(dependency in str(getattr(r, "error", "")) for r in warned)


async def _assert_serving(world: World) -> None:
    for path in _paths(world.guild):
        response = await _get(world.client, path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])


FAULTS: dict[str, Callable[[FaultProxy], None]] = {
    "cut": FaultProxy.cut,
    "blackhole": FaultProxy.blackhole,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize(("dependency", "label"), [("redis", "Redis"), ("sql", "PostgreSQL")])
async def test_pages_and_apis_answer_503_then_recover(
    world: World, caplog: pytest.LogCaptureFixture, fault: str, dependency: str, label: str
) -> None:
    await _assert_serving(world)
    proxy = world.redis if dependency == "redis" else world.sql
    caplog.set_level(logging.WARNING)
    FAULTS[fault](proxy)
    down = _needs(world.guild)[dependency]
    for path in down:
        _assert_unavailable(await _get(world.client, path), path, label)
    for path in set(_paths(world.guild)) - set(down):  # what needs only the other one is served
        assert (await _get(world.client, path)).status_code == 200, path
    health = await _get(world.client, "/api/health")
    assert health.status_code == 503
    states = health.json()["dependencies"]
    assert states[dependency]["state"] == "down" and label in states[dependency]["error"]
    other = "sql" if dependency == "redis" else "redis"
    assert states[other] == {"state": "up"}
    _assert_quiet(caplog, label)
    proxy.heal()
    await _assert_serving(world)
    assert (await _get(world.client, "/api/health")).status_code == 200


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_settings_save_during_a_sql_fault_answers_503(
    world: World, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """A save the database never confirmed is a 503 (never a 500 or a hang); healed, it saves."""
    path = f"/api/control-panel/guilds/{world.guild}/settings"
    panel_csrf = await _csrf(world)
    caplog.set_level(logging.WARNING)
    FAULTS[fault](world.sql)
    with anyio.fail_after(HANG_GUARD):
        response = await world.client.put(
            path,
            json={"version": 0, "settings": {"region": "eu"}},
            headers={"x-csrf-token": panel_csrf},
        )
    _assert_unavailable(response, path, "PostgreSQL")
    _assert_quiet(caplog, "PostgreSQL")
    world.sql.heal()
    with anyio.fail_after(HANG_GUARD):
        current = (await world.client.get(path)).json()["version"]
        saved = await world.client.put(
            path,
            json={"version": current, "settings": {"region": "eu"}},
            headers={"x-csrf-token": panel_csrf},
        )
    assert saved.status_code == 200, saved.text


async def _csrf(world: World) -> str:
    page = await _get(world.client, f"/guilds/{world.guild}/settings")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


class _Clock:
    def now(self) -> float:
        return 1_700_000_000.0


async def test_a_bot_settings_write_lost_in_a_sql_blackhole_is_not_reported_failed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes silent between the panel's read and its write: the panel cannot know
    whether the write applies (503, outcome unknown), so the bot says "not confirmed" instead of
    "failed"; once healed, a re-read tells the truth."""
    settings = world.services.settings
    write = settings.put_audited  # type: ignore[attr-defined]

    async def write_into_the_blackhole(*args: object) -> None:
        world.sql.blackhole()
        await write(*args)

    async with BridgeClient("http://panel", TOKEN, transport=world.transport) as bridge:
        sync = SettingsSync(
            bridge=bridge, channel=None, catalogue=world.services.catalogue, clock=_Clock()
        )
        held = await sync.get(world.guild)
        monkeypatch.setattr(settings, "put_audited", write_into_the_blackhole)
        with anyio.fail_after(HANG_GUARD), pytest.raises(OutcomeUnknown, match="not confirmed"):
            await sync.update(world.guild, {"queue_limit": 77})
        monkeypatch.undo()
        world.sql.heal()
        with anyio.fail_after(HANG_GUARD):
            after = await sync.refresh(world.guild)
        assert after.version == held.version or (
            after.version == held.version + 1 and after.settings.queue_limit == 77
        )


@pytest.mark.parametrize("dependency", ["redis", "sql"])
async def test_a_burst_during_a_blackhole_leaves_no_stuck_connections(
    world: World, dependency: str
) -> None:
    """More requests than the pools hold (SQL 10 + 20 overflow, Redis 64) give up while the
    backend is silent; each gives its connection back, so pages work again once healed."""
    proxy = world.redis if dependency == "redis" else world.sql
    statuses: list[int] = []
    path = f"/api/control-panel/guilds/{world.guild}/settings"

    async def one() -> None:
        statuses.append((await _get(world.client, path)).status_code)

    proxy.blackhole()
    async with anyio.create_task_group() as burst:
        for _ in range(80):
            burst.start_soon(one)
    assert statuses == [503] * 80
    proxy.heal()
    await _assert_serving(world)
