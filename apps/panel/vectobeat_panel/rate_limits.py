"""The panel's rate limits: per client address and class (login, control-panel API, bot bridge).

Counted with the `limits` library's sliding-window counter: in this replica's memory, or, once
the panel's services are open with ``REDIS_URL`` set, in Redis, so every replica behind the load
balancer shares one count per client (`RateLimiter.share`). The client address is the guard's
(``TRUSTED_PROXIES`` and ``X-Forwarded-For``, `vectobeat_core.forwarding`).

Redis down or slower than ``STORE_TIMEOUT`` does not stop the panel: once shared counting fails
this replica counts in memory and tries Redis again every ``shared_retry_seconds`` (so a Redis that
does not answer costs one request a wait, not every request); the change is logged once each way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import anyio
import attrs
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

__all__ = ["LIMIT_CLASSES", "RateLimiter", "RateLimits", "limit_class"]

log = logging.getLogger("vectobeat.panel.rate_limits")

LIMIT_CLASSES = ("login", "api", "bridge")


def limit_class(path: str) -> str | None:
    """The class a request path is counted in, ``None`` for pages and static files.

    A sign-in counts twice (its start and Discord's callback); the sign-in page itself is a plain
    page, so signing out and in again, or a failed attempt retried, stays within the limit.
    """
    if path in ("/auth/discord", "/auth/callback"):
        return "login"
    if path.startswith("/api/bot/"):
        return "bridge"
    if path.startswith("/api/"):
        return "api"
    return None


@attrs.frozen
class RateLimits:
    """Requests per minute per client address; a window of ``burst_fraction`` of a minute
    holds that fraction of the rate, so short spikes pass and floods do not."""

    login_per_minute: float = 20.0
    api_per_minute: float = 1200.0
    bridge_per_minute: float = 12_000.0
    burst_fraction: float = 0.25
    shared_retry_seconds: float = 5.0
    """After shared counting failed, how long this replica counts in memory before retrying."""

    def item(self, kind: str) -> RateLimitItem:
        """The `limits` item of ``kind``: ``rate * window / 60`` requests per window."""
        per_minute = {
            "login": self.login_per_minute,
            "api": self.api_per_minute,
            "bridge": self.bridge_per_minute,
        }[kind]
        window = max(1, round(60 * self.burst_fraction))
        amount = max(1, math.floor(min(per_minute * window / 60, 2**62)))
        return RateLimitItemPerSecond(amount, window, namespace="vb-panel")


class RateLimiter:
    """Counts each (class, client) request; ``allow`` says whether it is within its limit."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items = {kind: limits.item(kind) for kind in LIMIT_CLASSES}
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared: SlidingWindowCounterRateLimiter | None = None
        self._timeout = timeout
        self._retry_after = limits.shared_retry_seconds
        self._clock = clock
        self._shared_failing = False
        self._retry_at = 0.0

    @property
    def shared(self) -> bool:
        """Whether counts go to a shared storage (Redis) rather than this process's memory."""
        return self._shared is not None

    def share(self, storage: Storage | None, *, timeout: float | None = None) -> None:
        """Count in ``storage`` (every replica's Redis) from now on; ``None``: in memory again."""
        self._shared = SlidingWindowCounterRateLimiter(storage) if storage is not None else None
        self._shared_failing = False
        if timeout is not None:
            self._timeout = timeout

    def window_seconds(self, kind: str) -> int:
        """The window of ``kind`` (a client refused waits at most this long)."""
        return self._items[kind].get_expiry()

    async def allow(self, kind: str, client: str) -> bool:
        """Count one request of ``client`` in ``kind``; ``False`` when it is over the limit."""
        item = self._items[kind]
        shared = self._shared
        if shared is not None and not (self._shared_failing and self._clock() < self._retry_at):
            try:
                with anyio.fail_after(self._timeout):
                    allowed = await shared.hit(item, kind, client)
            except (StorageError, TimeoutError, OSError) as exc:
                self._shared_lost(exc)
            else:
                if self._shared_failing:
                    self._shared_failing = False
                    log.info("rate_limits_shared_again")
                return allowed
        return await self._local.hit(item, kind, client)

    def _shared_lost(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self._retry_after
        if self._shared_failing:
            return
        self._shared_failing = True
        cause = exc.storage_error if isinstance(exc, StorageError) else exc
        detail = str(cause) or type(cause).__name__
        if isinstance(exc, TimeoutError):
            detail = f"no answer within {self._timeout:g} s"
        log.warning(
            "rate_limits_shared_unavailable",
            extra={"error": detail, "counting": "in this replica's memory"},
        )
