"""Two ``vectobeat-panel`` processes behind a proxy, over Redis Sentinel, as an operator runs them.

``REDIS_URL`` names a sentinel watching a private primary and its replica; ``TRUSTED_PROXIES``
trusts the loopback "load balancer". Sign-in requests of one forwarded client, alternating between
the replicas, share one budget (the default 5 per 15 s); another client has its own. Then the
primary is SIGKILLed: the replicas keep serving, and once the sentinel promoted the replica they
share counts again, without a restart.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from tests.conftest import REQUIRE_SERVICES

from vectobeat_testkit.free_port import free_port
from vectobeat_testkit.redis_server import SentinelGroup, private_sentinel_group

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(240)]

LOGIN_BUDGET = 5  # the default: 20 a minute, a quarter minute's worth per window
WITHIN = 90.0  # bounds for a stuck test, not measurements
CANCELLED = "/auth/callback?error=access_denied"


@contextlib.asynccontextmanager
async def _panels(group: SentinelGroup, tmp: Path) -> AsyncIterator[list[str]]:
    urls: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for n in range(2):
            port = free_port()
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp),
                "VECTOBEAT_LOG_FORMAT": "json",
                "VECTOBEAT_PANEL_HOST": "127.0.0.1",
                "VECTOBEAT_PANEL_PORT": str(port),
                "VECTOBEAT_PANEL_URL": "http://panel.example",
                "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'panel-{n}.db'}",
                "VECTOBEAT_REDIS_URL": group.url,
                "VECTOBEAT_TRUSTED_PROXIES": "127.0.0.1",
                "VECTOBEAT_SESSION_SECRET": "e2e-session-secret-0123456789abcdef0123",
                "VECTOBEAT_BOT_BRIDGE_TOKEN": "e2e-bridge-token-0123456789abcdef012345",
            }
            log = stack.enter_context((tmp / f"panel-{n}.log").open("wb"))
            process = await anyio.open_process(
                [sys.executable, "-m", "vectobeat_panel"], env=env, cwd=tmp, stderr=log
            )
            stack.push_async_callback(_stop, process)
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            await _until_ready(url)
        yield urls


async def _stop(process: anyio.abc.Process) -> None:
    if process.returncode is None:
        process.terminate()
    with anyio.fail_after(20):
        await process.wait()
    await process.aclose()


async def _until_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        with anyio.fail_after(WITHIN):
            while True:  # another process: it can only be polled
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/api/health")).status_code == 200:
                        return
                await anyio.sleep(0.2)


async def _logins(client: httpx.AsyncClient, urls: list[str], user: str, count: int) -> list[int]:
    """``count`` sign-in requests forwarded for ``user``, alternating between replicas (Discord's
    callback of a cancelled sign-in: counted, answered 401 with the sign-in page)."""
    statuses = []
    for url in itertools.islice(itertools.cycle(urls), count):
        response = await client.get(f"{url}{CANCELLED}", headers={"x-forwarded-for": user})
        statuses.append(response.status_code)
    return statuses


async def test_replicas_share_rate_limits_over_sentinel_and_through_a_failover(
    tmp_path: Path,
) -> None:
    if shutil.which("redis-server") is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is not installed (needed for the sentinel test)")
        pytest.skip("redis-server is not installed")
    async with (
        private_sentinel_group(tmp_path) as group,
        _panels(group, tmp_path) as urls,
        httpx.AsyncClient(timeout=10.0) as client,
    ):
        statuses = await _logins(client, urls, "198.51.100.7", LOGIN_BUDGET + 2)
        assert 429 not in statuses[:LOGIN_BUDGET], statuses
        assert statuses[LOGIN_BUDGET:] == [429, 429], "one budget across both replicas"
        assert (await _logins(client, urls, "198.51.100.8", 1)) == [401], "its own budget"
        direct = await client.get(f"{urls[0]}{CANCELLED}")  # the proxy itself, no header: its own
        assert direct.status_code == 401

        group.kill_primary()
        served = await _logins(client, urls, "198.51.100.9", 2)
        assert all(s in (401, 429) for s in served), "served (or limited) while Redis is gone"

        # after the promotion both replicas count in Redis again: a fresh client's budget is
        # shared once more (each replica retries Redis every few seconds, so poll for it)
        with anyio.fail_after(WITHIN):
            for n in itertools.count():
                statuses = await _logins(client, urls, f"203.0.113.{n % 250}", LOGIN_BUDGET + 1)
                if statuses[-1] == 429 and 429 not in statuses[:LOGIN_BUDGET]:
                    break
                await anyio.sleep(0.5)
        for n in range(2):
            log = (tmp_path / f"panel-{n}.log").read_text()
            assert "rate_limits_shared_unavailable" in log and "rate_limits_shared_again" in log
