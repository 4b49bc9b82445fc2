"""Posting an alarm: JSON over httpx with a deadline per attempt and jittered retries."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING

import anyio
import tenacity

from vectobeat_adapters.retrying import EqualJitter
from vectobeat_core.errors import Unavailable
from vectobeat_core.jsontypes import JSON

if TYPE_CHECKING:
    import httpx  # loaded where a client is made: the bot may never need one

__all__ = ["AlarmDeliveryError", "RetryPolicy", "post_json"]


class AlarmDeliveryError(Unavailable):
    """An alarm endpoint refused the alarm or kept failing after every retry."""


class RetryPolicy:
    """``attempts`` tries with exponential, jittered delays (``base_delay_s`` doubling, capped);
    a ``Retry-After`` the endpoint sends is waited for (up to the cap)."""

    def __init__(
        self,
        attempts: int = 4,
        base_delay_s: float = 0.25,
        cap_s: float = 5.0,
        timeout_s: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.attempts = attempts
        self.base_delay_s = base_delay_s
        self.cap_s = cap_s
        self.timeout_s = timeout_s
        self._backoff = EqualJitter(base_delay_s, cap_s, rng)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        return self._backoff.delay(attempt, retry_after)

    def wait(self, state: tenacity.RetryCallState) -> float:
        """The tenacity wait after attempt ``state.attempt_number``."""
        failed = state.outcome.exception() if state.outcome is not None else None
        hint = failed.retry_after if isinstance(failed, _Retryable) else None
        return self.delay(state.attempt_number - 1, hint)


class _Retryable(Exception):
    """One failed attempt worth another: ``problem`` says what went wrong."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: Mapping[str, JSON],
    *,
    what: str,
    retry: RetryPolicy,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST ``payload``; retry timeouts, transport errors, 408, 429 and 5xx; raise when done.

    ``what`` names the endpoint in errors and logs; the URL is never shown (it may hold a token).
    """

    import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

    async def attempt() -> httpx.Response:
        try:
            with anyio.fail_after(retry.timeout_s):
                response = await client.post(url, json=dict(payload), headers=dict(headers or {}))
        except TimeoutError:
            raise _Retryable(f"no answer within {retry.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise _Retryable(type(exc).__name__) from None
        status = response.status_code
        if status < 300:
            return response
        if 400 <= status < 500 and status not in (408, 429):
            raise AlarmDeliveryError(f"{what} rejected the alarm: HTTP {status}")
        raise _Retryable(f"HTTP {status}", _retry_after(response))

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type(_Retryable),
        stop=tenacity.stop_after_attempt(retry.attempts),
        wait=retry.wait,
        sleep=anyio.sleep,
        reraise=True,
    )
    try:
        response: httpx.Response = await retrying(attempt)
    except _Retryable as exc:
        raise AlarmDeliveryError(
            f"{what} failed after {retry.attempts} attempts ({exc.problem})"
        ) from None
    return response
