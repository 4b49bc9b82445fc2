"""Redis adapters: queue snapshots, playlists, telemetry cache, node health, settings channel, leases.

Everything goes through :func:`open_redis`, which owns the client, its timeouts and the one place
where redis-py's exceptions become :class:`~vectobeat_core.errors.StorageUnavailable`; key names
live in :class:`RedisKeys`. Importing this package opens nothing and loads redis-py only when a
Redis adapter is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vectobeat_adapters.redis.connection import RedisConnection, RedisSettings, open_redis
    from vectobeat_adapters.redis.health_store import RedisHealthStore
    from vectobeat_adapters.redis.keys import RedisKeys
    from vectobeat_adapters.redis.leases import RedisLeaseStore
    from vectobeat_adapters.redis.playlists import RedisPlaylistStore
    from vectobeat_adapters.redis.queue_store import RedisQueueStore
    from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel
    from vectobeat_adapters.redis.telemetry import RedisTelemetryCache
    from vectobeat_adapters.redis.writer import DEFAULT_WINDOW, CoalescingWriter

__all__ = [
    "DEFAULT_WINDOW",
    "CoalescingWriter",
    "RedisConnection",
    "RedisHealthStore",
    "RedisKeys",
    "RedisLeaseStore",
    "RedisPlaylistStore",
    "RedisQueueStore",
    "RedisSettings",
    "RedisSettingsChannel",
    "RedisTelemetryCache",
    "open_redis",
]

_MODULE_OF = {
    "DEFAULT_WINDOW": "writer",
    "CoalescingWriter": "writer",
    "RedisConnection": "connection",
    "RedisHealthStore": "health_store",
    "RedisKeys": "keys",
    "RedisLeaseStore": "leases",
    "RedisPlaylistStore": "playlists",
    "RedisQueueStore": "queue_store",
    "RedisSettings": "connection",
    "RedisSettingsChannel": "settings_channel",
    "RedisTelemetryCache": "telemetry",
    "open_redis": "connection",
}


def __getattr__(name: str) -> object:
    """Import each name's module on first use: a process without ``REDIS_URL`` that uses only
    the (store-agnostic) ``CoalescingWriter`` never loads redis-py."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
