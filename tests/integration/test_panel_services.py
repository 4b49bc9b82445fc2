"""The panel on real stores: ``open_services`` with SQLite (and PostgreSQL) plus Redis; a bridge save
reaches a Redis settings-channel subscriber, node health comes from ``lavalink:health:<node>``,
and a second panel replica's long poll learns the change through Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from tests.conftest import service_url
from tests.sql_support import private_database

from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_adapters.services import Services, open_services
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId, NodeName, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.ports import SettingsChange
from vectobeat_core.records import GuildRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.sessions import ManagedGuild

pytestmark = [pytest.mark.anyio, pytest.mark.service("redis")]

TOKEN = "integration-bridge-" + "i" * 32
GUILD = 987_654_321_098_765_432


def _config(database_url: str, redis_url: str) -> AppConfig:
    return AppConfig(
        database_url=database_url,
        redis_url=redis_url,
        bot_bridge_token=Secret(TOKEN),
        session_secret=Secret("integration-session-" + "k" * 32),
        lavalink_nodes="eu:it-eu-1:http://127.0.0.1:1:pw",
    )


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'panel.db'}"
        return
    async with private_database(service_url("postgres")) as url:
        yield url


async def _client(config: AppConfig, services: Services) -> httpx.AsyncClient:
    app = create_app(config, services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://panel")


async def test_save_reaches_redis_subscriber_and_other_replica(database_url: str) -> None:
    config = _config(database_url, service_url("redis"))
    guild = GuildId(GUILD + secrets.randbelow(10**6))
    async with open_services(config) as services:
        now = services.clock.now()
        await services.guilds.upsert(GuildRecord(guild, "Integration", Tier.PRO, True, now))
        await services.health.put(
            NodeHealth(NodeName("it-eu-1"), NodeStatus.UP, last_latency_ms=7.0, since=now), 60
        )
        writer_app = create_app(config, services)
        reader_app = create_app(config, services)
        bot = {"authorization": f"Bearer {TOKEN}"}
        received: list[SettingsChange] = []
        got = anyio.Event()

        async def follow(ready: anyio.Event) -> None:
            async with services.settings_channel.subscribe() as events:
                ready.set()
                async for event in events:
                    if isinstance(event, SettingsChange) and event.guild_id == guild:
                        received.append(event)
                        got.set()
                        return

        async with (
            writer_app.router.lifespan_context(writer_app),
            reader_app.router.lifespan_context(reader_app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=writer_app), base_url="http://w", headers=bot
            ) as writer,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=reader_app), base_url="http://r", headers=bot
            ) as reader,
            anyio.create_task_group() as tasks,
        ):
            ready = anyio.Event()
            tasks.start_soon(follow, ready)
            await ready.wait()
            await anyio.sleep(0.3)  # the reader replica's own subscription starts in its lifespan
            cursor = (await reader.get("/api/bot/server-settings/changes?timeout=0")).json()
            saved = await writer.put(
                f"/api/bot/server-settings?guild_id={guild}",
                json={"version": 0, "settings": {"queue_limit": 100_000, "region": "eu"}},
            )
            assert saved.status_code == 200, saved.text
            assert {c["field"] for c in saved.json()["clamps"]} == {"queue_limit", "region"}
            with anyio.fail_after(5):
                await got.wait()
            assert received[0].version == 1
            polled = await reader.get(
                f"/api/bot/server-settings/changes?cursor={cursor['cursor']}&timeout=5"
            )
            assert {"guild_id": str(guild), "version": 1} in polled.json()["changes"]
            stale = await writer.put(
                f"/api/bot/server-settings?guild_id={guild}",
                json={"version": 0, "settings": {"queue_limit": 3}},
            )
            assert stale.status_code == 409
            record = await services.settings.get(guild)
            assert record is not None and record.version == 1 and record.settings.queue_limit != 3
            history = await services.settings.history(guild)
            assert [r.version for r in history] == [1]

            panel = writer_app.state.panel
            session = await panel.sessions.create(
                user_id=UserId(1), username="it", avatar=None,
                guilds=(ManagedGuild(guild, "Integration", None, True, 0),), now=now, ttl=600,
            )  # fmt: skip
            writer.cookies.set("vb_session", panel.signer.sign(session.id).decode())
            nodes = (await writer.get("/api/control-panel/lavalink/nodes")).json()["nodes"]
            row = next(n for n in nodes if n["name"] == "it-eu-1")
            assert row["status"] == "up" and row["region"] == "eu" and row["latency_ms"] == 7.0
            tasks.cancel_scope.cancel()


async def test_health_endpoint_reports_real_stores(database_url: str) -> None:
    config = _config(database_url, service_url("redis"))
    async with open_services(config) as services:
        client = await _client(config, services)
        async with client:
            response = await client.get("/api/health")
            assert response.status_code == 200
            assert response.json() == {
                "status": "ok",
                "dependencies": {"sql": {"state": "up"}, "redis": {"state": "up"}},
            }
