"""``QueueSync``: queue snapshots to ``/api/bot/queue-sync`` and queue telemetry events.

Plan-gated by the core (`sync_due`): realtime plans are sent shortly after each change (changes
within `batch_window` coalesce), periodic plans on every `interval` tick, free plans never. Each
snapshot says how far the bot had applied the erasure record when it was taken
(``erasures_applied``): the panel keeps none sent before the bot applied the guild's erasure.
Telemetry events (play, skip, queue_finished) are redacted to the guild's analytics mode
(`redact`) and kept as a rolling list per guild in the `TelemetryCache`
(``queue-telemetry:<guild>``, the newest `KEEP_EVENTS`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_adapters.telemetry_names import QUEUE_TELEMETRY_DOCUMENT
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON, JSONObject
from vectobeat_core.ports import TelemetryCache
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.telemetry import QueueTelemetry, queue_sync_payload, redact, sync_due

__all__ = ["KEEP_EVENTS", "TELEMETRY_TTL", "QueueSync"]

_log = logging.getLogger("vectobeat.bot.queue_sync")

KEEP_EVENTS = 100
TELEMETRY_TTL = 86_400.0


class QueueSync:
    """Sends queue snapshots to the panel and records redacted queue telemetry."""

    def __init__(
        self,
        *,
        bridge: BridgeClient | None,
        telemetry: TelemetryCache,
        interval: float = 30.0,
        batch_window: float = 0.25,
    ) -> None:
        self._bridge = bridge
        self._telemetry = telemetry
        self.interval = interval
        self.batch_window = batch_window
        self._snapshot: Callable[[GuildId], QueueSnapshot] | None = None
        self._erasures: Callable[[GuildId], int | None] = lambda guild: None
        self._realtime: set[GuildId] = set()
        self._periodic: set[GuildId] = set()
        self._events: deque[tuple[GuildId, JSONObject]] = deque(maxlen=10_000)
        self._wake = anyio.Event()
        self.sent = 0
        self.failed = 0

    def bind(
        self,
        snapshot: Callable[[GuildId], QueueSnapshot],
        erasures: Callable[[GuildId], int | None] | None = None,
    ) -> None:
        """Where snapshots come from (the player service), and how far the erasure record is
        applied for a guild (`PlayerService.erasures_applied`; without it none is sent)."""
        self._snapshot = snapshot
        if erasures is not None:
            self._erasures = erasures

    def changed(self, guild_id: GuildId, held: GuildSettings) -> None:
        mode = held.plan.queue_sync
        if sync_due(mode, "change"):
            self._realtime.add(guild_id)
            self._wake.set()
        elif sync_due(mode, "tick"):
            self._periodic.add(guild_id)

    def telemetry(self, event: QueueTelemetry, held: GuildSettings | None) -> None:
        document = redact(event, "none" if held is None else held.settings.analytics_mode)
        if document is not None:
            self._events.append((event.guild_id, document))
            self._wake.set()

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Send until cancelled."""
        task_status.started()
        next_tick = anyio.current_time() + self.interval
        while True:
            with anyio.move_on_after(max(0.0, next_tick - anyio.current_time())):
                await self._wake.wait()
            self._wake = anyio.Event()
            await anyio.sleep(self.batch_window)
            due, self._realtime = self._realtime, set()
            if anyio.current_time() >= next_tick:
                due |= self._periodic
                self._periodic = set()
                next_tick = anyio.current_time() + self.interval
            for guild_id in sorted(due):
                await self._send(guild_id)
            await self._store_events()

    async def flush(self) -> None:
        """Send every pending sync and store the pending telemetry now (e.g. on shutdown)."""
        due = self._realtime | self._periodic
        self._realtime, self._periodic = set(), set()
        for guild_id in sorted(due):
            await self._send(guild_id)
        await self._store_events()

    async def _send(self, guild_id: GuildId) -> None:
        if self._bridge is None or self._snapshot is None:
            return
        try:
            snapshot = self._snapshot(guild_id)  # with the record's place at that moment
            payload = queue_sync_payload(snapshot, self._erasures(guild_id))
            await self._bridge.request("POST", "/api/bot/queue-sync", json=payload)
        except KeyError:
            return  # the guild's player is gone
        except VectoBeatError as exc:
            self.failed += 1
            _log.warning("queue_sync_failed guild=%s error=%s", guild_id, exc)
            return
        self.sent += 1

    async def _store_events(self) -> None:
        by_guild: dict[GuildId, list[JSONObject]] = {}
        while self._events:
            guild_id, document = self._events.popleft()
            by_guild.setdefault(guild_id, []).append(document)
        for guild_id, documents in by_guild.items():
            name = QUEUE_TELEMETRY_DOCUMENT.format(guild=guild_id)
            try:
                held = await self._telemetry.get(name)
                kept: list[JSON] = list(held) if isinstance(held, list) else []
                kept.extend(documents)
                await self._telemetry.put(name, kept[-KEEP_EVENTS:], TELEMETRY_TTL)
            except VectoBeatError as exc:
                _log.warning("telemetry_store_failed guild=%s error=%s", guild_id, exc)
