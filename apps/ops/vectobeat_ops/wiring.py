"""Opening what the ops commands need from configuration: alarm sinks (`open_alarm_sinks`, shared
with the bot, lives in the adapters), the health store, nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vectobeat_adapters.alarms import open_alarm_sinks
from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.services import SystemClock
from vectobeat_core.errors import ConfigError, InvalidInput
from vectobeat_core.ports import HealthStore, TelemetryCache
from vectobeat_core.routing import NodeSpec, parse_node_list

__all__ = ["node_specs", "open_alarm_sinks", "open_health_store"]


def node_specs(config: AppConfig) -> tuple[NodeSpec, ...]:
    """``LAVALINK_NODES`` parsed (``ConfigError`` when unset or malformed); unset, the nodes of
    the sandbox `vectobeat-ops up` runs in this directory, when one runs."""
    nodes = config.lavalink_nodes
    password = config.lavalink_password.reveal() if config.lavalink_password else None
    if not nodes:
        nodes, password = _sandbox_nodes()
    try:
        return parse_node_list(nodes, password)
    except InvalidInput as exc:
        raise ConfigError(f"{exc}; run `vectobeat-ops validate-env` for the fix.") from None


@asynccontextmanager
async def open_health_store(
    config: AppConfig,
) -> AsyncIterator[tuple[HealthStore, TelemetryCache]]:
    """Where node health (``lavalink:health:<node>``) and node stats go: Redis when ``REDIS_URL``
    is set, else memory."""
    if not config.redis_url:
        clock = SystemClock()
        yield MemoryHealthStore(clock), MemoryTelemetryCache(clock)
        return
    from vectobeat_adapters.redis import RedisKeys, open_redis  # noqa: PLC0415 - optional extra
    from vectobeat_adapters.redis.health_store import RedisHealthStore  # noqa: PLC0415
    from vectobeat_adapters.redis.telemetry import RedisTelemetryCache  # noqa: PLC0415

    async with open_redis(config.redis_url) as conn:
        keys = RedisKeys()
        yield RedisHealthStore(conn, keys), RedisTelemetryCache(conn, keys)


def _sandbox_nodes() -> tuple[str, str]:
    """``LAVALINK_NODES`` and the password of the sandbox running in this directory."""
    from vectobeat_ops.sandbox import DEFAULT_STATE_FILE, control  # noqa: PLC0415 - only then

    if not DEFAULT_STATE_FILE.exists():
        raise ConfigError(
            "LAVALINK_NODES is not set: list your nodes as region:name:http(s)://host:port[:password]"
            " (or run `vectobeat-ops up` here for the sandbox's nodes)."
        )
    found = control(DEFAULT_STATE_FILE, "GET", "/lavalink", timeout=5.0)
    return str(found["LAVALINK_NODES"]), str(found["LAVALINK_PASSWORD"])
