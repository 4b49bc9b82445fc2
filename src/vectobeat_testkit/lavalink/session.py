"""A fake node's websocket sessions: live, paused (resumable) or gone.

Messages go out through one writer task per connection, in order; while the session is paused
(its websocket dropped with resuming enabled), events are queued and replayed on resume. A
session's ``wire`` turns each payload into the messages that go out (a server profile's deviations).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vectobeat_testkit.lavalink.player import PlayerState

__all__ = ["Connection", "Session", "Wire"]

Wire = Callable[[dict[str, Any]], list[dict[str, Any]]]
"""A payload to the websocket messages that go out for it."""


class Connection:
    """One accepted websocket and its writer task."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, gate: Callable[[], Awaitable[None]]
    ) -> None:
        self.ws = ws
        self.request = request
        self._gate = gate
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    @property
    def open(self) -> bool:
        return not self.ws.closed

    def send(self, payload: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps(payload))

    async def _write(self) -> None:
        while (text := await self._queue.get()) is not None:
            await self._gate()
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def send_raw(self, text: str) -> None:
        """Send ``text`` as is (garbage, for clients' bad-input tests)."""
        self._queue.put_nowait(text)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a dead process or network."""
        self._queue.put_nowait(None)
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def finish(self) -> None:
        self._queue.put_nowait(None)
        if not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer


class Session:
    """A client session: players plus resuming settings; survives drops when resumable."""

    def __init__(
        self, session_id: str, user_id: int, client_name: str | None, wire: Wire | None = None
    ) -> None:
        self.id = session_id
        self.wire: Wire = wire if wire is not None else _as_is
        self.user_id = user_id
        self.client_name = client_name
        self.connection: Connection | None = None
        self.resuming = False
        self.timeout = 60
        self.players: dict[int, PlayerState] = {}
        self.pending: list[dict[str, Any]] = []
        self.paused = False
        self.expiry: asyncio.TimerHandle | None = None
        self.end_timers: dict[int, asyncio.TimerHandle] = {}
        self.update_timers: dict[int, asyncio.TimerHandle] = {}
        self.sent: list[dict[str, Any]] = []

    def send(self, payload: dict[str, Any], *, replay: bool = True) -> None:
        """Send now, or queue for replay while paused (``replay=False`` drops it instead).

        What is sent (and logged in ``sent``) is what ``wire`` makes of ``payload``."""
        if self.paused:
            if replay:
                self.pending.append(payload)
            return
        if self.connection is not None and self.connection.open:
            for message in self.wire(payload):
                self.connection.send(message)
                self.sent.append(message)

    def attach(self, connection: Connection) -> list[dict[str, Any]]:
        """Bind a (new) connection; return the events queued while paused."""
        self.connection = connection
        self.paused = False
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        replay, self.pending = self.pending, []
        return replay

    def cancel_timers(self) -> None:
        for handle in (*self.end_timers.values(), *self.update_timers.values()):
            handle.cancel()
        self.end_timers.clear()
        self.update_timers.clear()
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

    def describe(self) -> dict[str, Any]:
        """Lavalink v4's session object (``PATCH /v4/sessions/{id}`` answer)."""
        return {"resuming": self.resuming, "timeout": self.timeout}


def _as_is(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [payload]
