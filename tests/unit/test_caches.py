"""Bounded and expiring caches (cachetools): the in-memory stores' `TtlDict` and the panel's rate
limiter buckets, by an injected clock."""

from __future__ import annotations

import attrs
import pytest

from vectobeat_adapters.memory._ttl import TtlDict
from vectobeat_panel import security
from vectobeat_panel.security import RateLimiter, RateLimits


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


def test_a_rate_limit_bucket_is_forgotten_once_it_is_full_again() -> None:
    clock = Clock()
    limits = RateLimits(login_per_minute=60.0, burst_fraction=0.05)  # 1 a second, a burst of 3
    limiter = RateLimiter(limits, clock)
    assert [limiter.allow("login", "1.2.3.4") for _ in range(4)] == [True, True, True, False]
    clock.t += 1.0
    assert limiter.allow("login", "1.2.3.4") is True  # refilled by one
    assert limiter.allow("login", "1.2.3.4") is False
    slowest_refill = max(cap / rate for rate, cap in limiter._rates.values())
    clock.t += slowest_refill
    limiter._buckets.expire()
    assert len(limiter._buckets) == 0  # every bucket is full again: nothing to remember
    assert [limiter.allow("login", "1.2.3.4") for _ in range(4)] == [True, True, True, False]


def test_rate_limit_buckets_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_MAX_BUCKETS", 100)
    clock = Clock()
    limiter = RateLimiter(RateLimits(login_per_minute=60.0, burst_fraction=0.05), clock)
    for _ in range(3):
        limiter.allow("login", "1.1.1.1")
    for n in range(500):
        assert limiter.allow("login", f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) == 100
    # the busy client was the least recently used: it starts again from a full bucket
    assert [limiter.allow("login", "1.1.1.1") for _ in range(4)] == [True, True, True, False]
