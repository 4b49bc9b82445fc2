"""A dict whose values expire by an injected clock (shared by the in-memory stores).

A thin face over cachetools' ``TLRUCache`` (a time-to-use per item): each ``put`` says its own
TTL, ``None`` for never; expired items are dropped by the cache on its next change.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Generic, TypeVar

from cachetools import TLRUCache

from vectobeat_core.ports import Clock

__all__ = ["TtlDict"]

K = TypeVar("K")
V = TypeVar("V")


def _expires(_key: object, item: tuple[object, float | None], now: float) -> float:
    ttl = item[1]
    return math.inf if ttl is None else now + ttl


class TtlDict(Generic[K, V]):
    """``key -> value`` where each value may expire at ``clock.now() >= put time + ttl``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._items: TLRUCache[K, tuple[V, float | None]] = TLRUCache(
            maxsize=math.inf, ttu=_expires, timer=clock.now
        )

    def put(self, key: K, value: V, ttl: float | None) -> None:
        self._items[key] = (value, ttl)

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        return None if item is None else item[0]

    def pop(self, key: K) -> V | None:
        item = self._items.pop(key, None)
        return None if item is None else item[0]

    def keys(self) -> Iterator[K]:
        """Live keys (expired ones are dropped on the way)."""
        self._items.expire()
        yield from list(self._items)
