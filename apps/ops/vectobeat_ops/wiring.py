"""Opening what the ops commands need from configuration: alarm sinks (`open_alarm_sinks`, shared
with the bot, lives in the adapters), the health store, nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs

from vectobeat_adapters.alarms import open_alarm_sinks
from vectobeat_adapters.config import AppConfig, Invalid, Secret
from vectobeat_adapters.config import node_specs as parse_nodes
from vectobeat_adapters.config.nodes import NODES_UNSET_FIX
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.services import SystemClock
from vectobeat_core.ports import HealthStore, TelemetryCache
from vectobeat_core.routing import NodeSpec

__all__ = ["node_specs", "open_alarm_sinks", "open_health_store"]


def node_specs(config: AppConfig) -> tuple[NodeSpec, ...]:
    """The configured nodes (`vectobeat_adapters.config.node_specs`, ``ConfigError`` when
    malformed); when none are configured, those of the sandbox `vectobeat-ops up` runs in this
    directory, if one runs."""
    if not config.lavalink_nodes:
        nodes, password = _sandbox_nodes()
        config = attrs.evolve(config, lavalink_nodes=nodes, lavalink_password=Secret(password))
    return parse_nodes(config)


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
        raise Invalid(
            "is not set",
            f"{NODES_UNSET_FIX} (or run `vectobeat-ops up` here for the sandbox's nodes)",
        ).error("LAVALINK_NODES")
    found = control(DEFAULT_STATE_FILE, "GET", "/lavalink", timeout=5.0)
    return str(found["LAVALINK_NODES"]), str(found["LAVALINK_PASSWORD"])
