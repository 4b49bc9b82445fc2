"""``BridgeClient``: the bot's HTTP client for the panel's ``/api/bot/*`` bridge (httpx).

The bearer token travels in the ``Authorization`` header only. Transport failures and 5xx answers
become `BridgeUnavailable`; the panel's ``{"error": ...}`` answers become our errors with its
message (409 `Conflict`, 4xx `InvalidInput`). A write whose outcome is unknown (sent, then a
timeout or a lost connection; or the panel's 503 with ``"outcome": "unknown"``) is
`OutcomeUnknown`, never a plain failure: only a write that never left (no connection) failed.
`lines` follows a route that answers with a JSON line per event (the playback controls' stream).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from vectobeat_adapters.i18n import current_language
from vectobeat_core.errors import (
    BridgeUnavailable,
    Conflict,
    InvalidInput,
    OutcomeUnknown,
    VectoBeatError,
)

if TYPE_CHECKING:
    import httpx  # loaded where a client is made: the bot may never need one

__all__ = ["BridgeClient", "BridgeConflict", "BridgeRouteMissing"]


class BridgeConflict(Conflict):
    """The bridge refused a write based on a stale version (HTTP 409)."""


class BridgeRouteMissing(BridgeUnavailable):
    """The panel has no such route (HTTP 404): an older panel, or a wrong ``PANEL_URL`` path."""


class BridgeClient:
    """An async context manager holding one ``httpx.AsyncClient`` for the bridge."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": "vectobeat-bot"}
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=self._transport,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        wait_s: float | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer, or one of our errors."""
        if self._client is None:
            raise BridgeUnavailable("The panel bridge client is not open.")
        import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

        # transport failures before the request left: a write that hit one was not applied
        not_sent = (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
        )
        try:
            response = await self._client.request(
                method,
                path,
                params=params,
                json=json,
                # the panel words its errors in the language of the member being answered
                headers={"Accept-Language": current_language()},
                timeout=self._timeout if wait_s is None else wait_s,
            )
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
            if method != "GET" and not isinstance(exc, not_sent):
                raise OutcomeUnknown(
                    "The panel at {url} did not confirm the change ({failure}); "
                    "it may still be applied.",
                    url=self.base_url,
                    failure=failure,
                ) from None
            raise BridgeUnavailable(
                "The panel at {url} cannot be reached ({failure}).",
                url=self.base_url,
                failure=failure,
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400:
            return body
        raise _error(response.status_code, body, path)

    async def lines(
        self, path: str, *, params: dict[str, str], idle_s: float
    ) -> AsyncGenerator[Any, None]:
        """Follow a stream of JSON lines; each decoded line as it arrives. Silence for
        ``idle_s`` (the route sends something more often), a lost connection or an unreadable
        line is `BridgeUnavailable`; an error answer is one of our errors, as in `request`."""
        if self._client is None:
            raise BridgeUnavailable("The panel bridge client is not open.")
        import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

        timeout = httpx.Timeout(self._timeout, read=idle_s)
        try:
            async with self._client.stream("GET", path, params=params, timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    raise _error(response.status_code, body, path)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield jsonlib.loads(line)
        except httpx.HTTPError as exc:
            raise BridgeUnavailable(
                "The panel at {url} cannot be reached ({failure}).",
                url=self.base_url,
                failure=type(exc).__name__,
            ) from None
        except ValueError:
            raise BridgeUnavailable(
                "The panel sent an unreadable line on {path}.", path=path
            ) from None
        raise BridgeUnavailable("The panel ended the stream at {path}.", path=path)


def _error(status: int, body: Any, path: str) -> VectoBeatError:
    """Our error for the panel's error answer (see the module docstring)."""
    message = body.get("error") if isinstance(body, dict) else None
    text = message if isinstance(message, str) else f"HTTP {status}"
    if status == 409:
        return BridgeConflict(text)
    if status in (401, 403):
        return BridgeUnavailable("The panel bridge refused the bot's token: {text}", text=text)
    if status >= 500:
        if isinstance(body, dict) and body.get("outcome") == "unknown":
            return OutcomeUnknown("The panel did not confirm the change: {text}", text=text)
        return BridgeUnavailable("The panel bridge failed: {text}", text=text)
    if status == 404:
        return BridgeRouteMissing("The panel has no bridge at {path}: {text}", path=path, text=text)
    return InvalidInput(text)
