"""The panel's shared rate-limit counters in Redis: a `limits` storage over our own connection
pool, so it finds the primary the same way as every other adapter (a Sentinel URL included) and
uses the same socket timeouts. The `limits` library (the panel's extra) is imported only here."""

from __future__ import annotations

from limits.aio.storage import RedisStorage

from vectobeat_adapters.redis.connection import RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys

__all__ = ["rate_limit_storage"]


def rate_limit_storage(conn: RedisConnection, keys: RedisKeys) -> RedisStorage:
    """A `limits` Redis storage sharing ``conn``'s pool; counters under ``keys.rate_limit_prefix``."""
    return RedisStorage(
        "async+redis://",  # the pool below decides where; the URI is only the storage's kind
        implementation="redispy",
        wrap_exceptions=True,  # redis-py's errors arrive as limits.errors.StorageError
        key_prefix=keys.rate_limit_prefix(),
        connection_pool=conn.client.connection_pool,  # type: ignore[arg-type]
    )
