"""Redis adapters: queue snapshots, playlists, telemetry cache, node health, settings channel, leases.

Everything goes through :func:`open_redis`, which owns the client, its timeouts and the one place
where redis-py's exceptions become :class:`~vectobeat_core.errors.StorageUnavailable`; key names
live in :class:`RedisKeys`. Importing this package opens nothing.
"""

from __future__ import annotations

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
