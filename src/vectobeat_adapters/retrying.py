"""Retries with tenacity, waiting by the core's one back-off (`vectobeat_core.backoff`).

What is retried stays each adapter's rule (a deadlock, a lost connection of an idempotent call, a
5xx, a dropped websocket); how long to wait between tries is `ExponentialBackoff`. `BackoffWait`
makes it a tenacity ``wait`` strategy (drawing the jitter); `EqualJitter` is the usual one, half
the ceiling fixed and half random, so processes that failed together do not come back together.
`supervise` runs a step for ever: a failed one is tried again after the wait, a successful one
starts the count (and so the back-off) afresh. There is no other retry loop.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import anyio
import tenacity
from tenacity.wait import wait_base

from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import InvalidInput

if TYPE_CHECKING:
    from tenacity.retry import RetryBaseT
    from tenacity.wait import WaitBaseT

__all__ = ["BackoffWait", "EqualJitter", "failure", "supervise"]

T = TypeVar("T")


class BackoffWait(wait_base):
    """The tenacity wait by ``rule``: the ``n``-th retry (0 first) waits ``rule.delay(n, draw())``."""

    def __init__(self, rule: ExponentialBackoff, draw: Callable[[], float] = random.random) -> None:
        self.rule = rule
        self._draw = draw

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        return self.rule.delay(retry, self._draw(), retry_after)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self.delay(retry_state.attempt_number - 1)


class EqualJitter(BackoffWait):
    """The ``n``-th retry (0 first) waits within ``[c/2, c]``, ``c = min(cap_s, base_s * 2**n)``."""

    def __init__(
        self, base_s: float = 0.25, cap_s: float = 10.0, rng: random.Random | None = None
    ) -> None:
        try:
            rule = ExponentialBackoff(base_s, cap_s)
        except InvalidInput:
            raise ValueError("the back-off needs 0 < base_s <= cap_s, both finite") from None
        super().__init__(rule, (rng or random.Random()).random)
        self.base_s = base_s
        self.cap_s = cap_s


def failure(state: tenacity.RetryCallState) -> BaseException | None:
    """The error the last try ended with (``None``: it returned)."""
    return None if state.outcome is None else state.outcome.exception()


async def supervise(
    step: Callable[[], Awaitable[T]],
    *,
    retry: RetryBaseT,
    wait: WaitBaseT,
    idle: Callable[[], Awaitable[object]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
) -> NoReturn:
    """Run ``step`` until cancelled. One that failed (``retry`` says so, from its result or its
    error) is tried again after ``wait`` (slept by ``sleep``, after ``before_sleep``); after one
    that did not, ``idle`` runs and the next step counts as a first try again. An error ``retry``
    does not accept ends the supervision with that error."""
    retrying = tenacity.AsyncRetrying(
        retry=retry, stop=tenacity.stop_never, wait=wait, sleep=sleep, before_sleep=before_sleep
    )
    while True:
        await retrying(step)
        if idle is not None:
            await idle()
