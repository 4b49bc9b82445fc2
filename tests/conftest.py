"""Shared fixtures: the anyio backend and real-service URLs that skip (or fail under CI) when absent."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

# Tests never assert on wall-clock time: no per-example deadline and no "too slow" health check,
# which fail at random on a loaded CI machine (hypothesis still shrinks and replays as usual).
settings.register_profile("vectobeat", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vectobeat")

REQUIRE_SERVICES = os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1"

SERVICE_DEFAULTS = {
    "redis": ("VECTOBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "mysql": ("VECTOBEAT_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test"),
    "postgres": ("VECTOBEAT_TEST_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test"),
}

HOW_TO_START = {
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
    "mysql": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or {"redis": 6379, "mysql": 3306, "postgresql": 5432}.get(
        parts.scheme.split("+")[0], 0
    )
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def service_url(name: str) -> str:
    """The URL of a real server for tests; skip (or fail with VECTOBEAT_REQUIRE_SERVICES=1) if down."""
    env_name, default = SERVICE_DEFAULTS[name]
    url = os.environ.get(env_name, default)
    if not _answers(url):
        message = (
            f"{name} is not answering at {url} (set {env_name}, or start it: {HOW_TO_START[name]})"
        )
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return url
