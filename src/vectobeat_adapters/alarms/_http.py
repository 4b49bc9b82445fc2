"""Posting an alarm: JSON over httpx with a deadline per attempt and jittered retries."""

from __future__ import annotations

import random
from collections.abc import Mapping

import anyio
import httpx

from vectobeat_core.errors import Unavailable
from vectobeat_core.jsontypes import JSON

__all__ = ["AlarmDeliveryError", "RetryPolicy", "post_json"]


class AlarmDeliveryError(Unavailable):
    """An alarm endpoint refused the alarm or kept failing after every retry."""


class RetryPolicy:
    """``attempts`` tries with exponential, jittered delays (``base_delay_s`` doubling, capped)."""

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
        self._rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap_s, self.base_delay_s * 2.0**attempt)
        jittered = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            return min(max(retry_after, jittered), self.cap_s)
        return jittered


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
    problem = "no attempt made"
    for attempt in range(retry.attempts):
        wait_hint: float | None = None
        try:
            with anyio.fail_after(retry.timeout_s):
                response = await client.post(url, json=dict(payload), headers=dict(headers or {}))
        except TimeoutError:
            problem = f"no answer within {retry.timeout_s:g} s"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        else:
            status = response.status_code
            if status < 300:
                return response
            if 400 <= status < 500 and status not in (408, 429):
                raise AlarmDeliveryError(f"{what} rejected the alarm: HTTP {status}")
            problem = f"HTTP {status}"
            wait_hint = _retry_after(response)
        if attempt + 1 < retry.attempts:
            await anyio.sleep(retry.delay(attempt, wait_hint))
    raise AlarmDeliveryError(f"{what} failed after {retry.attempts} attempts ({problem})")
