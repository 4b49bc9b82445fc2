"""``WebhookExports``: what the bot sees, turned into webhook exports for the guilds that selected
them (``webhook_export_url`` + ``webhook_export_events``), handed to the `WebhookSender` without
waiting (playback never waits for a receiver).

Hooks, all outside `PlayerService`: `lavalink_event` (the cluster's events: ``track_started``,
``track_finished``, ``node_failover``), `queue_changed` (a `PlayerService.watch` watcher:
``queue_updated`` when the queue's length or current entry changed, ``queue_finished`` when the
last track ended with nothing queued) and `settings_applied` (a `SettingsSync.listen` listener:
``settings_changed`` with the changed field names, never their values).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from vectobeat_adapters.webhooks.sender import Export, WebhookSender
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_core.decision_alarms import WebhookOutages
from vectobeat_core.errors import Unavailable, VectoBeatError
from vectobeat_core.ids import EntryId, GuildId, UserId
from vectobeat_core.lavalink import LavalinkEvent, PlayerMoved, TrackEnd, TrackStart
from vectobeat_core.ports import Clock, WebhookDeliveryLog
from vectobeat_core.queue import GuildQueue
from vectobeat_core.settings import changed_fields
from vectobeat_core.tracks import Track
from vectobeat_core.webhooks import ExportEvent, ExportKind, wants

__all__ = ["WebhookExports", "WebhookMetrics", "resume_webhook_outages"]

_log = logging.getLogger("vectobeat.bot.webhooks")


async def resume_webhook_outages(log: WebhookDeliveryLog, outages: WebhookOutages) -> int:
    """Seed ``outages`` from the delivery log at start, so a run of failures that began before a
    restart alarms an hour after its first failure, not an hour after the restart. A log that
    cannot be read is logged and skipped (the bot starts anyway); returns the guilds seeded."""
    try:
        guilds = await log.guilds()
        for guild in guilds:
            attempts = await log.recent(guild)
            outages.seed(guild, [(attempt.ok, attempt.at) for attempt in attempts])
    except Unavailable as exc:
        _log.warning("webhook_outages_not_resumed reason=%s", type(exc).__name__)
        return 0
    return sum(1 for guild in guilds if outages.failing_since(guild) is not None)


class WebhookExports:
    """See the module docstring; `bind` the `PlayerService` before events flow."""

    def __init__(self, sender: WebhookSender, settings: SettingsSync, clock: Clock) -> None:
        self._sender = sender
        self._settings = settings
        self._clock = clock
        self._players: PlayerService | None = None
        self._queues: dict[GuildId, tuple[int, EntryId | None]] = {}
        self._held: dict[GuildId, GuildSettings] = {}
        if not sender.enabled:
            _log.info("webhook_exports_off reason=WEBHOOK_SIGNING_SECRET is not set")

    def bind(self, players: PlayerService) -> None:
        self._players = players

    def _queue(self, guild_id: GuildId) -> GuildQueue | None:
        session = self._players.peek(guild_id) if self._players is not None else None
        return None if session is None else session.queue

    def _emit(self, kind: ExportKind, guild_id: GuildId, **facts: Any) -> None:
        held = self._settings.cached(guild_id)
        if held is None or not self._sender.enabled or not held.plan.webhook_exports:
            return
        settings = held.settings
        url = settings.webhook_export_url
        if url is None or not wants(settings, kind):
            return
        try:
            event = ExportEvent(kind, guild_id, self._clock.now(), **facts)
            self._sender.submit(Export(url, event, settings.analytics_mode))
        except VectoBeatError as exc:  # never let an export disturb playback
            _log.warning("webhook_export_skipped guild=%s event=%s error=%s", guild_id, kind, exc)

    def _requester(self, guild_id: GuildId, track: Track | None) -> UserId | None:
        queue = self._queue(guild_id)
        current = queue.current if queue is not None else None
        if current is None or track is None or current.track.encoded != track.encoded:
            return None
        return current.track.requester

    def lavalink_event(self, guild_id: GuildId, event: LavalinkEvent) -> None:
        """Call before `PlayerService.on_event`, so a track's end is told before what follows."""
        if isinstance(event, TrackStart) and not event.restored:
            user = self._requester(guild_id, event.track)
            self._emit("track_started", guild_id, track=event.track, user_id=user)
        elif isinstance(event, TrackEnd):
            user = self._requester(guild_id, event.track)
            self._emit(
                "track_finished", guild_id, track=event.track, user_id=user, reason=event.reason
            )
        elif isinstance(event, PlayerMoved):
            self._emit("node_failover", guild_id, from_node=event.from_node, to_node=event.to_node)

    def automation_action(self, guild_id: GuildId, action: str, reason: str) -> None:
        """What the automation engine did by itself, and why."""
        self._emit("automation_action", guild_id, action=action, reason=reason)

    def queue_changed(self, guild_id: GuildId) -> None:
        """A `PlayerService.watch` watcher."""
        queue = self._queue(guild_id)
        if queue is None:
            return
        current = queue.current.entry_id if queue.current is not None else None
        now = (len(queue), current)
        before = self._queues.get(guild_id)
        self._queues[guild_id] = now
        if before == now:
            return
        if before is not None and before[1] is not None and now == (0, None):
            self._emit("queue_finished", guild_id, queue_length=0)
        else:
            self._emit("queue_updated", guild_id, queue_length=now[0])

    async def settings_applied(self, held: GuildSettings) -> None:
        """A `SettingsSync.listen` listener: a newer version than one seen before is a change."""
        before = self._held.get(held.guild_id)
        self._held[held.guild_id] = held
        if before is None:
            return
        fields = changed_fields(before.settings, held.settings)
        if fields:
            self._emit("settings_changed", held.guild_id, fields=fields, version=held.version)


class WebhookMetrics(Collector):
    """``vectobeat_webhook_exports_total{outcome}`` for /metrics: exports delivered, failed for
    good (after every retry, or refused), and dropped from a full guild queue."""

    def __init__(self, sender: WebhookSender) -> None:
        self._sender = sender

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "vectobeat_webhook_exports", "Webhook exports by outcome.", labels=["outcome"]
        )
        sender = self._sender
        for outcome, count in (
            ("delivered", sender.delivered),
            ("failed", sender.failed),
            ("dropped", sender.dropped),
        ):
            family.add_metric([outcome], count)
        yield family
