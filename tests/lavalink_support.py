"""Test helpers for runs against fake Lavalink nodes: a clock in step with their playback and
a health policy with short probe intervals, so failures are noticed quickly."""

from __future__ import annotations

import time

from vectobeat_core.health import HealthPolicy

__all__ = ["FAST", "NodeTimeClock"]

FAST = HealthPolicy(
    failures_to_down=2,
    slow_ms=250.0,
    probe_interval_s=0.3,
    probe_timeout_s=0.3,
    retry_interval_s=0.05,
    recover_after=2,
)


class NodeTimeClock:
    """Epoch seconds advancing at the fake nodes' playback speed."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return self.at(time.monotonic())

    def at(self, monotonic: float) -> float:
        """This clock's reading at the ``time.monotonic()`` reading ``monotonic``."""
        return 1_700_000_000.0 + (monotonic - self._origin) * self.speed
