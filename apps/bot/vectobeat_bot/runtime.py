"""The running bot as the Status API sees it, and the idle-voice watcher."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import anyio

from vectobeat_bot.bot import BotDeps, VectoBeatBot
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.voice import LavalinkVoice
from vectobeat_core.dependencies import DependencyStatus
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import GuildId, ShardId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeView
from vectobeat_core.shards import LeaseState, ShardStatus
from vectobeat_core.status import build_status, readiness

__all__ = ["BotStatus", "watch_idle_voice"]

_log = logging.getLogger("vectobeat.bot.runtime")


class BotStatus:
    """`StatusSource` over the live bot, its cluster, players and settings sync."""

    def __init__(self, bot: VectoBeatBot, deps: BotDeps, owner: str) -> None:
        self.bot = bot
        self.deps = deps
        self.owner = owner

    def guild_count(self) -> int:
        return len(self.bot.guilds)

    def player_count(self) -> int:
        return len(self.deps.cluster.players())

    def queue_tracks(self) -> int:
        return self.deps.players.queue_tracks()

    def shard_latencies(self) -> Mapping[int, float]:
        if not self.deps.ready.is_set():
            return {}
        return {shard: latency for shard, latency in self.bot.latencies if math.isfinite(latency)}

    def nodes(self) -> Sequence[NodeView]:
        return self.deps.cluster.nodes()

    def failovers(self) -> int:
        return self.deps.cluster.counts.failovers

    def sync_lag_seconds(self) -> float:
        return self.deps.settings.lag_seconds()

    def dependencies(self) -> list[DependencyStatus]:
        return self.deps.dependencies.statuses()

    def liveness(self) -> tuple[bool, str | None]:
        return self.deps.heartbeat.alive()

    def _shards(self) -> list[ShardStatus]:
        latencies = self.shard_latencies()
        counts: dict[int, int] = {}
        for guild in self.bot.guilds:
            counts[guild.shard_id] = counts.get(guild.shard_id, 0) + 1
        return [
            ShardStatus(
                ShardId(shard), LeaseState.HELD, self.owner, 0, None,
                latency * 1000.0 if shard in latencies else None, counts.get(shard, 0),
            )
            for shard, latency in ((s, latencies.get(s, math.nan)) for s in self._running())
        ]  # fmt: skip

    def _running(self) -> list[int]:
        active = self.deps.active_shards
        return sorted(s for s in self.bot.shards if active is None or s in active)

    def status_payload(self) -> dict[str, JSON]:
        deps = self.deps
        regions: dict[GuildId, Region] = {p.guild_id: p.region for p in deps.cluster.players()}
        payload = build_status(
            now=deps.services.clock.now(),
            started_at=deps.started_at,
            guilds=self.guild_count(),
            players=self.player_count(),
            queue_tracks=self.queue_tracks(),
            shards=self._shards(),
            nodes=self.nodes(),
            regions=regions,
            settings_sync=deps.settings.state(),
            dependencies=self.dependencies(),
            displaced=deps.cluster.displaced(),
        )
        sync = payload["settings_sync"]
        if isinstance(sync, dict):
            sync["error"] = deps.settings.last_error
        payload["restored_players"] = deps.players.restored
        writer = deps.players.writer
        payload["queue_store"] = {
            "down": writer.store_down,
            "journaled_guilds": writer.journaled,
            "replayed": writer.replayed,
            "resyncs": deps.players.resyncs,
        }
        return payload

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready when connected to Discord, queues restored, the queue store reachable and some
        Lavalink node up; otherwise every reason."""
        deps = self.deps
        if deps.standby and not deps.active_shards:
            return True, []  # a hot spare waiting for a stale shard
        reasons: list[str] = []
        if not deps.ready.is_set():
            reasons.append("not connected to Discord yet")
        elif not deps.restored.is_set():
            reasons.append("restoring queues from snapshots")
        elif deps.restore_needed:
            reasons.append("queues not restored yet: waiting for the queue store")
        _, more = readiness(
            shards=self._shards(), nodes=self.nodes(), dependencies=self.dependencies()
        )
        reasons += more
        return not reasons, reasons


async def watch_idle_voice(bot: VectoBeatBot, deps: BotDeps) -> None:
    """Leave voice channels nobody else has been in for ``deps.idle_seconds`` (never in 24/7
    mode, the ``stay_connected`` setting)."""
    alone_since: dict[int, float] = {}
    step = max(0.2, min(5.0, deps.idle_seconds / 4))
    while True:
        await anyio.sleep(step)
        now = anyio.current_time()
        me = bot.user.id if bot.user else 0
        connected: set[int] = set()
        for voice in list(bot.voice_clients):  # only guilds with a voice connection
            if not isinstance(voice, LavalinkVoice) or voice.channel_id is None:
                continue
            guild = bot.get_guild(voice.guild_id)
            channel = None if guild is None else guild.get_channel(voice.channel_id)
            if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                continue
            connected.add(voice.guild_id)
            held = deps.settings.cached(GuildId(voice.guild_id))
            stays = held is not None and held.settings.stay_connected  # 24/7 mode
            if stays or any(uid != me for uid in channel.voice_states):
                alone_since.pop(voice.guild_id, None)
                continue
            since = alone_since.setdefault(voice.guild_id, now)
            if now - since >= deps.idle_seconds:
                alone_since.pop(voice.guild_id, None)
                _log.info("idle_leave guild=%s", voice.guild_id)
                try:
                    await deps.players.disconnect(GuildId(voice.guild_id))
                except VectoBeatError as exc:
                    _log.warning("idle_leave_failed guild=%s error=%s", voice.guild_id, exc)
                    continue
                if deps.automation is not None:
                    await deps.automation.left_empty_channel(GuildId(voice.guild_id))
        for gone in set(alone_since) - connected:
            alone_since.pop(gone, None)
