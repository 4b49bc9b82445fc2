"""When each shard's gateway connection was last alive, for its lease renewals.

discord.py's keep-alive handler records (monotonic) when it last sent a heartbeat, got an ACK and
received any frame. A connection whose latest heartbeat is answered is alive now; one with a
heartbeat outstanding was last alive at the later of the first unanswered heartbeat (one interval
after the last ACK) and the last frame received (a normal ACK round trip stays far below
``SHARD_STALE_AFTER``). A stall so shows within one heartbeat interval. A connection that sent no
heartbeat for two intervals belonged to a frozen process: it counts as alive only when last heard
from, so the process gives its shards up when it runs again instead of resuming them. A shard that never connected yet is
still being started (``None``: alive); one between connections keeps the last time it was alive.
The attributes read are private to discord.py, so each is read defensively: a missing one counts as
alive, never as a stall.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from vectobeat_bot.discord_compat import discord
from vectobeat_core.ids import ShardId

__all__ = ["OVERDUE_INTERVALS", "ShardLiveness"]

OVERDUE_INTERVALS = 2
"""Heartbeat intervals without a heartbeat sent after which this process was not running."""


class ShardLiveness:
    """``alive_at(shard)`` in ``now()``'s time (see the module docstring)."""

    def __init__(self, client: discord.AutoShardedClient, now: Callable[[], float]) -> None:
        self._client = client
        self._now = now
        self._last: dict[int, float] = {}

    def connected(self, shard_id: int) -> None:
        """The shard (re)connected: track it from now on."""
        self._last[shard_id] = self._now()

    def forget(self, shard_id: int) -> None:
        """The shard was stopped here."""
        self._last.pop(shard_id, None)

    def alive_at(self, shard_id: ShardId) -> float | None:
        if shard_id not in self._last:
            return None  # still starting: the first connection is under way
        now = self._now()
        keep_alive = self._keep_alive(shard_id)
        if keep_alive is None:
            return self._last[shard_id]  # between connections
        sent, acked, received, interval = (
            getattr(keep_alive, name, None)
            for name in ("_last_send", "_last_ack", "_last_recv", "interval")
        )
        if not (isinstance(sent, float) and isinstance(acked, float)):
            return None
        perf = time.perf_counter()
        heard = max(acked, received) if isinstance(received, float) else acked
        if acked >= sent:
            # the latest heartbeat was answered; but with none sent for two intervals this
            # process itself was not running (frozen): alive only when last heard from
            overdue = isinstance(interval, float) and perf - sent > OVERDUE_INTERVALS * interval
            alive = now - max(0.0, perf - heard) if overdue else now
        else:
            # heartbeats go out every interval: the first unanswered one left one interval after
            # the last ACK (discord.py keeps only the latest send)
            first_unanswered = min(sent, acked + interval) if isinstance(interval, float) else acked
            alive = now - max(0.0, perf - max(first_unanswered, heard))
        self._last[shard_id] = alive
        return alive

    def _keep_alive(self, shard_id: int) -> object | None:
        info = self._client.get_shard(shard_id)
        parent = getattr(info, "_parent", None)
        ws = getattr(parent, "ws", None)
        if ws is None or not getattr(ws, "open", False):
            return None
        return getattr(ws, "_keep_alive", None)
