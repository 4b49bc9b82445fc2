"""What every alarm sink shares: an owned (or borrowed) httpx client and a retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

from vectobeat_adapters.alarms._http import RetryPolicy

if TYPE_CHECKING:
    import httpx  # loaded where a client is made: the bot may never need one

__all__ = ["HttpSink", "iso_time"]


def iso_time(at: float) -> str:
    """Epoch seconds as ISO 8601 in UTC (what Discord and PagerDuty expect)."""
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds")


class HttpSink:
    """Base of the HTTP sinks: an async context manager closing the client it created."""

    def __init__(self, client: httpx.AsyncClient | None, retry: RetryPolicy | None) -> None:
        self._owns_client = client is None
        if client is None:
            import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

            client = httpx.AsyncClient()
        self._client = client
        self.retry = retry or RetryPolicy()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
