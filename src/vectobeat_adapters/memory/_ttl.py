"""A dict whose values expire by an injected clock (shared by the in-memory stores)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from vectobeat_core.ports import Clock

__all__ = ["TtlDict"]

K = TypeVar("K")
V = TypeVar("V")


class TtlDict(Generic[K, V]):
    """``key -> value`` where each value may expire at ``clock.now() >= expires_at``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._items: dict[K, tuple[V, float | None]] = {}

    def put(self, key: K, value: V, ttl: float | None) -> None:
        expires = None if ttl is None else self.clock.now() + ttl
        self._items[key] = (value, expires)

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and self.clock.now() >= expires:
            del self._items[key]
            return None
        return value

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def keys(self) -> Iterator[K]:
        """Live keys (expired ones are dropped on the way)."""
        for key in list(self._items):
            if self.get(key) is not None:
                yield key
