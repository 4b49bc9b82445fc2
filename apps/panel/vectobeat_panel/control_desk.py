"""``ControlDesk``: web playback controls waiting for the bot, and the nudges that wake the live
queue streams.

The panel `submit`s a `ControlRequest` and waits for the bot's `ControlResult`; bots long-poll
`wait` for requests after their cursor (every bot process sees every request and applies only
those of its guilds) and `answer` them. A request no bot took within the wait is withdrawn (no bot
can take it later), so "nothing changed" is true; one a bot took but did not answer in time is
reported as unknown, never as done. In-process, like the settings `ChangeFeed`: bots poll the
panel process their users reach.
"""

from __future__ import annotations

import anyio
import attrs

from vectobeat_core.controls import ControlOutcome, ControlRequest, ControlResult
from vectobeat_core.ids import GuildId

__all__ = ["ControlDesk"]


@attrs.define
class _Pending:
    request: ControlRequest
    seq: int
    done: anyio.Event = attrs.Factory(anyio.Event)
    delivered: bool = False
    result: ControlResult | None = None


class ControlDesk:
    """Pending web controls (bounded by their wait) and per-guild change nudges."""

    def __init__(self, max_pending: int = 1024) -> None:
        self._pending: dict[str, _Pending] = {}
        self._seq = 0
        self._wake = anyio.Event()
        self._nudges: dict[GuildId, anyio.Event] = {}
        self._ticks: dict[GuildId, int] = {}
        self._closed = False
        self.max_pending = max_pending

    def close(self) -> None:
        """The server is stopping: waiting bot polls answer now (with what is pending) and new
        ones at once, so none holds the shutdown."""
        self._closed = True
        self._wake.set()

    async def submit(self, request: ControlRequest, wait_seconds: float) -> ControlResult:
        """Hand ``request`` to the bots and wait up to ``wait_seconds`` for its result."""
        if len(self._pending) >= self.max_pending:
            return ControlResult(
                ControlOutcome.REFUSED, "Too many controls are waiting for the bot; try again.", 503
            )
        self._seq += 1
        pending = _Pending(request, self._seq)
        self._pending[request.id] = pending
        wake, self._wake = self._wake, anyio.Event()
        wake.set()
        try:
            with anyio.move_on_after(wait_seconds):
                await pending.done.wait()
        finally:
            self._pending.pop(request.id, None)  # withdrawn: no bot can take it any more
        if pending.result is not None:
            return pending.result
        if not pending.delivered:
            return ControlResult(
                ControlOutcome.REFUSED,
                f"No bot took the request within {wait_seconds:g} s, so nothing was changed; "
                "is the bot running and connected to the panel?",
                503,
            )
        return ControlResult(
            ControlOutcome.UNKNOWN,
            f"The bot did not confirm within {wait_seconds:g} s; the change may still be applied. "
            "The queue shows what happened.",
        )

    def since(self, cursor: int) -> tuple[int, list[ControlRequest]]:
        """Requests after ``cursor`` (all pending ones for a cursor from another panel process),
        marked as delivered, and the new cursor."""
        if cursor > self._seq:
            cursor = 0
        taken = [p for p in self._pending.values() if p.seq > cursor]
        for pending in taken:
            pending.delivered = True
        return self._seq, [p.request for p in taken]

    async def wait(self, cursor: int, wait_seconds: float) -> tuple[int, list[ControlRequest]]:
        """`since`, waiting up to ``wait_seconds`` for a request when there is none yet."""
        found = self.since(cursor)
        if found[1] or wait_seconds <= 0 or self._closed:
            return found
        with anyio.move_on_after(wait_seconds):
            await self._wake.wait()
        return self.since(cursor)

    def waiting(self, request_id: str) -> GuildId | None:
        """The guild of a request still waiting for its result, else ``None``."""
        pending = self._pending.get(request_id)
        return None if pending is None or pending.result is not None else pending.request.guild_id

    def answer(self, request_id: str, result: ControlResult) -> GuildId | None:
        """Record the bot's result; the request's guild, or ``None`` when it is no longer
        waited for (answered already, or withdrawn)."""
        pending = self._pending.get(request_id)
        if pending is None or pending.result is not None:
            return None
        pending.result = result
        pending.done.set()
        return pending.request.guild_id

    def nudge(self, guild_id: GuildId) -> None:
        """The guild's queue changed: wake its live streams now."""
        self._ticks[guild_id] = self._ticks.get(guild_id, 0) + 1
        event = self._nudges.pop(guild_id, None)
        if event is not None:
            event.set()

    def tick(self, guild_id: GuildId) -> int:
        """How many nudges the guild has had (a stream reads it before it reads the queue)."""
        return self._ticks.get(guild_id, 0)

    async def changed(self, guild_id: GuildId, seen: int, wait_seconds: float) -> None:
        """Return once the guild had a `nudge` after `tick` said ``seen`` (at once if it had
        one meanwhile), or after ``wait_seconds``."""
        if self.tick(guild_id) != seen:
            return
        event = self._nudges.setdefault(guild_id, anyio.Event())
        with anyio.move_on_after(wait_seconds):
            await event.wait()
