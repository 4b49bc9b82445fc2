"""Expiring caches (cachetools): the in-memory stores' `TtlDict`, by an injected clock. (The panel's
rate limits count with the `limits` library: tests/unit/test_panel_parts.py.)"""

from __future__ import annotations

import attrs

from vectobeat_adapters.memory._ttl import TtlDict


@attrs.define
class Clock:
    t: float = 1000.0

    def now(self) -> float:
        return self.t

    def __call__(self) -> float:
        return self.t


def test_each_value_expires_after_its_own_ttl() -> None:
    clock = Clock()
    ttl: TtlDict[str, int] = TtlDict(clock)
    ttl.put("short", 1, 5.0)
    ttl.put("long", 2, 50.0)
    ttl.put("forever", 3, None)
    clock.t += 4.9
    assert (ttl.get("short"), ttl.get("long")) == (1, 2)
    clock.t += 0.1  # exactly at its expiry: gone
    assert ttl.get("short") is None
    assert sorted(ttl.keys()) == ["forever", "long"]
    clock.t += 1e9
    assert list(ttl.keys()) == ["forever"]
    assert ttl.pop("long") is None and ttl.pop("forever") == 3 and ttl.get("forever") is None


def test_a_put_again_starts_the_ttl_again() -> None:
    clock = Clock()
    ttl: TtlDict[str, int] = TtlDict(clock)
    ttl.put("k", 1, 5.0)
    clock.t += 4.0
    ttl.put("k", 2, 5.0)
    clock.t += 4.0
    assert ttl.get("k") == 2
