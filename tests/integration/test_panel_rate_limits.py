"""The panel's rate limits across replicas: two panel apps behind one trusted proxy.

With ``REDIS_URL`` (a private redis-server behind a fault proxy) the replicas share one count per
client, the client being whom the proxy's ``X-Forwarded-For`` names; without it each replica
counts alone. Redis gone: requests are still served, counted in each replica's memory, and the
shared count returns when Redis does (a Redis that hangs instead: ``tests/unit/test_panel_parts``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from tests.conftest import REQUIRE_SERVICES
from tests.unit.test_panel_app import panel_config

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import memory_services, open_services
from vectobeat_panel.app import create_app
from vectobeat_panel.rate_limits import RateLimiter, RateLimits
from vectobeat_panel.state import PanelOptions
from vectobeat_testkit.faultproxy import FaultProxy
from vectobeat_testkit.redis_server import private_redis_server

pytestmark = pytest.mark.anyio

PROXY = "10.0.0.5"
LOGIN_LIMIT = 4  # per 30 s window (8 a minute, half a minute's burst)
OPTIONS = PanelOptions(
    rate_limits=RateLimits(login_per_minute=8, burst_fraction=0.5, shared_retry_seconds=0)
)


def _need_redis_server() -> None:
    if shutil.which("redis-server") is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is not installed (needed for the shared rate limit test)")
        pytest.skip("redis-server is not installed")


def _client(app: Starlette) -> httpx.AsyncClient:
    """Requests arriving from the load balancer's address."""
    transport = httpx.ASGITransport(app=app, client=(PROXY, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _login(client: httpx.AsyncClient, user: str) -> int:
    """A sign-in request (Discord's callback of a refused sign-in: counted, and touching no store)."""
    response = await client.get(
        "/auth/callback?error=access_denied", headers={"x-forwarded-for": f"{user}, 10.0.0.9"}
    )
    return response.status_code


@asynccontextmanager
async def _replicas(config: AppConfig, *, shared: bool) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            services = (
                await stack.enter_async_context(open_services(config))
                if shared
                else memory_services()
            )
            app = create_app(config, services, options=OPTIONS)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(await stack.enter_async_context(_client(app)))
        yield clients


@asynccontextmanager
async def _redis(tmp_path: Path) -> AsyncIterator[tuple[FaultProxy, str]]:
    async with private_redis_server(tmp_path) as url:
        parts = urlsplit(url)
        assert parts.port is not None
        async with FaultProxy(upstream_port=parts.port) as proxy:
            yield proxy, f"redis://127.0.0.1:{proxy.port}/0"


def _config(tmp_path: Path, redis_url: str | None) -> AppConfig:
    return panel_config(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'panel.db'}",
        redis_url=redis_url,
        trusted_proxies="10.0.0.0/8",
        store_timeout=1.0,
    )


async def test_replicas_share_one_count_per_forwarded_client(tmp_path: Path) -> None:
    _need_redis_server()
    async with _redis(tmp_path) as (_, url), _replicas(_config(tmp_path, url), shared=True) as apps:
        statuses = [await _login(apps[i % 2], "203.0.113.7") for i in range(LOGIN_LIMIT + 2)]
        assert statuses[:LOGIN_LIMIT].count(429) == 0
        assert statuses[LOGIN_LIMIT:] == [429, 429], "the other replica saw the same count"
        assert await _login(apps[1], "203.0.113.8") != 429, "another client has its own count"


async def test_without_redis_each_replica_counts_alone(tmp_path: Path) -> None:
    async with _replicas(_config(tmp_path, None), shared=False) as apps:
        first = [await _login(apps[0], "203.0.113.7") for _ in range(LOGIN_LIMIT + 1)]
        second = [await _login(apps[1], "203.0.113.7") for _ in range(LOGIN_LIMIT + 1)]
        assert first[-1] == second[-1] == 429
        assert 429 not in first[:LOGIN_LIMIT] and 429 not in second[:LOGIN_LIMIT]
        assert await _login(apps[0], "203.0.113.9") != 429, "the proxy is not the client"


async def test_redis_down_counts_in_memory_and_shares_again_when_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _need_redis_server()
    caplog.set_level(logging.INFO, logger="vectobeat.panel.rate_limits")
    async with (
        _redis(tmp_path) as (proxy, url),
        _replicas(_config(tmp_path, url), shared=True) as apps,
    ):
        assert await _login(apps[0], "203.0.113.7") != 429
        proxy.cut()
        local = [await _login(apps[0], "203.0.113.7") for _ in range(LOGIN_LIMIT + 1)]
        assert local[:LOGIN_LIMIT].count(429) == 0 and local[-1] == 429, "memory counts"
        assert await _login(apps[1], "203.0.113.7") != 429, "not shared while Redis is down"
        assert caplog.text.count("rate_limits_shared_unavailable") == 2, "once per replica"
        proxy.heal()
        assert await _login(apps[0], "203.0.113.7") != 429, "back on the shared count (1 + 1)"
        assert "rate_limits_shared_again" in caplog.text


async def test_a_limiter_without_shared_storage_is_local() -> None:
    limiter = RateLimiter(RateLimits())
    assert not limiter.shared
    assert await limiter.allow("api", "198.51.100.1")
