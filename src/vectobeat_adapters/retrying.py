"""Retries with tenacity: the one back-off every adapter waits by (`EqualJitter`).

What is retried stays each adapter's rule (a deadlock, a lost connection of an idempotent call, a
5xx, a dropped websocket); how long to wait between tries is this exponential back-off with
"equal jitter" (half the ceiling fixed, half random), so processes that failed together do not
come back together. It is a tenacity ``wait`` strategy; `EqualJitter.delay` gives one value.
"""

from __future__ import annotations

import random

import tenacity
from tenacity.wait import wait_base

__all__ = ["EqualJitter"]


class EqualJitter(wait_base):
    """The ``n``-th retry (0 first) waits within ``[c/2, c]``, ``c = min(cap_s, base_s * 2**n)``."""

    def __init__(
        self, base_s: float = 0.25, cap_s: float = 10.0, rng: random.Random | None = None
    ) -> None:
        if not 0.0 < base_s <= cap_s:
            raise ValueError("the back-off needs 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()

    def delay(self, retry: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(retry, 30))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self.delay(retry_state.attempt_number - 1)
