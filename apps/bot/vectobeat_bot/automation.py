"""The automation engine in the bot: applies `vectobeat_core.automation`'s decisions per guild.

* `decide_command` throttles command floods (called by `VectoBeatTree.interaction_check`).
* `trim` drops duplicate tracks from an add (called by `PlayerService.play`).
* `left_empty_channel` audits the idle-channel leave of `watch_idle_voice` at ``smart``/``full``.
* `run`, at ``full``, restarts players that have a queue but have played nothing for a while, and
  re-joins voice after a voice disconnect that was no normal close (`lavalink_event` notes
  Lavalink's ``WebSocketClosedEvent``; a dropped voice state of the bot counts too).

Every action is an ``automation_action`` audit event; a throttled flood is one
``throttled_command`` event per guild bucket and window. An audit store that is down is logged
and never blocks a command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import anyio
import anyio.abc
from cachetools import TTLCache

from vectobeat_bot.formatting import plural
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.audit import AuditEvent
from vectobeat_core.automation import (
    NORMAL_VOICE_CLOSE_CODES,
    BucketState,
    DuplicateTrim,
    ThrottleDecision,
    ThrottleRule,
    leave_is_automation,
    should_rejoin,
    should_restart,
    take_token,
    track_key,
    trim_duplicates,
)
from vectobeat_core.errors import InvalidInput, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.lavalink import LavalinkEvent, WebSocketClosed
from vectobeat_core.plans import AutomationLevel
from vectobeat_core.ports import AuditLog, Clock, Lavalink
from vectobeat_core.tracks import Track

__all__ = ["AutomationEngine"]

_log = logging.getLogger("vectobeat.bot.automation")
MAX_PLAYED_PER_GUILD = 1000
_MAX_BUCKETS = 100_000  # throttle buckets kept; the least recently used goes first (restarts full)
"""How many recently started tracks a guild remembers for duplicate trimming."""


class AutomationEngine:
    """Per-guild throttle buckets, recently played tracks and idle players."""

    def __init__(
        self,
        *,
        settings: SettingsSync,
        players: PlayerService,
        cluster: Lavalink,
        audit: AuditLog,
        clock: Clock,
        rule: ThrottleRule | None = None,
        restart_after: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_action: Callable[[GuildId, str, str], None] | None = None,
    ) -> None:
        if not restart_after >= 1:
            raise InvalidInput(
                "AUTOMATION_RESTART_SECONDS must be at least 1, got {value}.",
                value=repr(restart_after),
            )
        self.settings = settings
        self.players = players
        self.cluster = cluster
        self.audit = audit
        self.clock = clock
        self.rule = rule or ThrottleRule()
        self.restart_after = restart_after
        self._monotonic = monotonic
        self._on_action = on_action
        """Told every action too (the guild's ``automation_action`` webhook export)."""
        # A bucket left alone for a whole window is full again, the same as none: it expires.
        self._buckets: TTLCache[tuple[GuildId, str], BucketState] = TTLCache(
            maxsize=_MAX_BUCKETS, ttl=self.rule.per_seconds, timer=self._monotonic
        )
        self._played: dict[GuildId, dict[str, float]] = {}
        self._idle_since: dict[GuildId, float] = {}
        self._voice_closed: dict[GuildId, int] = {}
        """The last voice websocket close code Lavalink reported per guild, until handled."""
        self._voice_gone_since: dict[GuildId, float] = {}
        self._stay_out: set[GuildId] = set()
        """Guilds whose voice closed normally (kicked, moved out): not re-joined until back."""
        players.watch(self._queue_changed)

    def level(self, guild_id: GuildId) -> AutomationLevel:
        """The guild's automation level as this process holds it (``off`` until its settings
        were read once)."""
        held = self.settings.cached(guild_id)
        return "off" if held is None else held.settings.automation_level

    async def _record(self, event: AuditEvent) -> None:
        try:
            await self.audit.append(event)
        except VectoBeatError as exc:
            _log.warning("audit_failed kind=%s error=%s", event.kind.value, exc)

    async def _action(self, guild_id: GuildId, action: str, reason: str) -> None:
        _log.info("automation guild=%s action=%s", guild_id, action)
        if self._on_action is not None:
            self._on_action(guild_id, action, reason)
        event = AuditEvent.automation_action(guild_id, action, reason, self.clock.now())
        await self._record(event)

    # -- throttle --------------------------------------------------------------------------------

    def decide_command(self, guild_id: GuildId, bucket: str) -> ThrottleDecision | None:
        """Take a token for ``bucket`` of the guild; ``None`` when its level throttles nothing."""
        if self.level(guild_id) == "off":
            return None
        key = (guild_id, bucket)
        decision = take_token(self.rule, self._buckets.get(key), self._monotonic())
        self._buckets[key] = decision.state
        return decision

    async def report_throttled(
        self, guild_id: GuildId, actor: str, command: str, decision: ThrottleDecision
    ) -> None:
        """Audit a refused command when the decision says so (once per bucket window)."""
        if decision.report:
            event = AuditEvent.throttled_command(
                guild_id, actor, command, round(decision.retry_after, 1), self.clock.now()
            )
            await self._record(event)

    # -- duplicates ------------------------------------------------------------------------------

    def _queue_changed(self, guild_id: GuildId) -> None:
        session = self.players.peek(guild_id)
        current = None if session is None else session.queue.current
        if current is None:
            return
        played = self._played.setdefault(guild_id, {})
        key = track_key(current.track)
        if key in played and key == next(reversed(played)):
            return  # still the same track
        played.pop(key, None)
        played[key] = self.clock.now()
        while len(played) > MAX_PLAYED_PER_GUILD:
            del played[next(iter(played))]

    async def trim(self, guild_id: GuildId, tracks: Sequence[Track]) -> DuplicateTrim:
        """The tracks of an add without duplicates (at ``smart``/``full``); audits a trim."""
        level = self.level(guild_id)
        session = self.players.peek(guild_id)
        queued: list[Track] = []
        if session is not None:
            if session.queue.current is not None:
                queued.append(session.queue.current.track)
            queued += (e.track for e in session.queue)
        held = self.settings.cached(guild_id)
        window = 0 if held is None else held.settings.automation_window_hours
        now = self.clock.now()
        played = self._played.get(guild_id, {})
        trimmed = trim_duplicates(level, tracks, queued, played, now=now, window_hours=window)
        if trimmed.skipped:
            titles = ", ".join(t.title for t in trimmed.skipped[:5])
            await self._action(
                guild_id,
                f"skipped {plural(len(trimmed.skipped), 'duplicate track')}: {titles}",
                f"already queued or played within {window} h",
            )
        return trimmed

    # -- idle voice and idle players -------------------------------------------------------------

    async def left_empty_channel(self, guild_id: GuildId) -> None:
        """`watch_idle_voice` left the guild's empty channel: an automation action at
        ``smart``/``full``."""
        if leave_is_automation(self.level(guild_id)):
            await self._action(guild_id, "left the empty voice channel", "nobody else was in it")

    async def check_idle_players(self) -> None:
        """Restart, at ``full``, every player with a queue that played nothing for
        ``restart_after`` seconds."""
        now = self._monotonic()
        sessions = self.players.sessions()
        for gone in set(self._idle_since) - set(sessions):
            del self._idle_since[gone]
        for guild_id, session in sessions.items():
            queue = session.queue
            queued = len(queue) + (queue.current is not None)
            info = self.cluster.player(guild_id)
            playing = info is not None and info.track is not None
            paused = info is not None and info.paused
            if playing or not queued:
                self._idle_since.pop(guild_id, None)
                continue
            since = self._idle_since.setdefault(guild_id, now)
            level = self.level(guild_id)
            if not should_restart(
                level, queued=queued, playing=playing, paused=paused, idle_since=since,
                now=now, after_seconds=self.restart_after,
            ):  # fmt: skip
                continue
            self._idle_since.pop(guild_id, None)
            try:
                entry = await self.players.restart_idle(guild_id)
            except VectoBeatError as exc:
                _log.warning("automation_restart_failed guild=%s error=%s", guild_id, exc)
                continue
            if entry is not None:
                await self._action(
                    guild_id,
                    f"restarted the idle player with {entry.track.title}",
                    f"{plural(queued, 'track')} queued but nothing played for {self.restart_after:g} s",
                )

    def lavalink_event(self, guild_id: GuildId, event: LavalinkEvent) -> None:
        """Note a closed voice websocket; `run` decides on it (never on the event path)."""
        if isinstance(event, WebSocketClosed):
            self._voice_closed[guild_id] = event.code

    async def check_voice(self) -> None:
        """Re-join, at ``full``, the voice channel of every guild with music queued whose voice
        websocket closed abnormally, or whose voice connection is gone for ``restart_after``."""
        now = self._monotonic()
        sessions = self.players.sessions()
        for gone in set(self._voice_gone_since) - set(sessions):
            del self._voice_gone_since[gone]
        for guild_id in list(self._voice_closed):
            if guild_id not in sessions:
                del self._voice_closed[guild_id]
        self._stay_out &= set(sessions)
        for guild_id, session in sessions.items():
            queue = session.queue
            queued = len(queue) + (queue.current is not None)
            code = self._voice_closed.pop(guild_id, None)
            connected = self.players.voice.connected_channel(guild_id) is not None
            if code in NORMAL_VOICE_CLOSE_CODES:
                self._stay_out.add(guild_id)  # kicked or moved out on purpose
            elif code is None and connected:
                self._stay_out.discard(guild_id)
            if (
                session.voice_channel_id is None
                or guild_id in self._stay_out
                or (code is None and connected)
            ):
                self._voice_gone_since.pop(guild_id, None)
                continue
            if code is None:
                since = self._voice_gone_since.setdefault(guild_id, now)
                if now - since < self.restart_after:
                    continue
            if not should_rejoin(self.level(guild_id), close_code=code, queued=queued):
                continue
            self._voice_gone_since.pop(guild_id, None)
            try:
                channel = await self.players.reconnect_voice(guild_id)
            except VectoBeatError as exc:
                _log.warning("automation_rejoin_failed guild=%s error=%s", guild_id, exc)
                continue
            if channel is not None:
                why = "the voice connection dropped" if code is None else f"voice closed ({code})"
                await self._action(
                    guild_id, f"re-joined voice channel {channel}", f"{why} with music queued"
                )

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """The periodic checks, until cancelled."""
        step = max(0.2, min(5.0, self.restart_after / 4))
        task_status.started()
        while True:
            await anyio.sleep(step)
            try:
                await self.check_voice()
                await self.check_idle_players()
            except VectoBeatError as exc:
                _log.warning("automation_check_failed error=%s", exc)
