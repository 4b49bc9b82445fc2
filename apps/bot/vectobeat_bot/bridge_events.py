"""``BridgeEvents``: guild join/leave and settings-applied notices to ``POST /api/bot/events``.

Notices are queued without waiting (`guild_join`, `guild_remove`, `settings_applied`) and sent
by `run` in order; a notice the panel cannot take is logged and dropped (the next start reports
every guild again).
"""

from __future__ import annotations

import logging
import math

import anyio
import anyio.abc

from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSONObject

__all__ = ["BridgeEvents"]

_log = logging.getLogger("vectobeat.bot.events")


class BridgeEvents:
    """A queue of notices for the panel, drained by `run`."""

    def __init__(self, bridge: BridgeClient | None) -> None:
        self._bridge = bridge
        self._send, self._receive = anyio.create_memory_object_stream[JSONObject](math.inf)
        self.sent = 0

    def _put(self, notice: JSONObject) -> None:
        if self._bridge is not None:
            self._send.send_nowait(notice)

    def guild_join(self, guild_id: GuildId, name: str) -> None:
        self._put({"type": "guild_join", "guild_id": str(guild_id), "name": name[:100] or "?"})

    def guild_remove(self, guild_id: GuildId) -> None:
        self._put({"type": "guild_remove", "guild_id": str(guild_id)})

    def settings_applied(self, guild_id: GuildId, version: int) -> None:
        if version > 0:
            self._put({"type": "settings_applied", "guild_id": str(guild_id), "version": version})

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Send notices until cancelled."""
        task_status.started()
        if self._bridge is None:
            return
        async for notice in self._receive:
            try:
                await self._bridge.request("POST", "/api/bot/events", json=notice)
            except VectoBeatError as exc:
                _log.warning("bridge_event_dropped type=%s error=%s", notice.get("type"), exc)
                continue
            self.sent += 1
