"""``PlayerService``: every guild's `GuildQueue`, played through the `Lavalink` port.

Each mutation marks the guild dirty in the `CoalescingWriter` and tells `QueueSync`; so does a
failover moving the guild's player to another node (the snapshot records where it plays). A return
move happens inside a play, so it is covered too. Every public method that changes a queue or a
player (decorated `acknowledged`) returns only once the change is durable (stored, or journaled
while the store is down) and otherwise raises `StorageUnavailable` saying it is done but not saved
yet: no reply acknowledges a change a crash could lose. On start `restore_all` rebuilds players
from the stored snapshots, preferring a later journaled one (rejoin voice, resume the track at its
extrapolated position); `resync_all` rewrites every guild after the store lost its data; `flush`
writes what is pending (call it on SIGTERM). Voice is reached through the `VoiceLink` the bot
provides. A queue that runs out with ``autoplay`` on is topped up with related tracks
(`vectobeat_core.autoplay`); every track that starts after another ended is reported to the
`on_start` listeners (the now-playing announcements).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import anyio
import attrs

from vectobeat_adapters.i18n import N_
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_adapters.slim_lock import SlimLock
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_core.audit import AuditEvent
from vectobeat_core.automation import DuplicateTrim
from vectobeat_core.autoplay import AUTOPLAY_RECENT, pick_related, related_identifier
from vectobeat_core.durability import Durability, store_is_newer
from vectobeat_core.errors import (
    InvalidInput,
    NotFound,
    QueueEmpty,
    StorageUnavailable,
    Unavailable,
    VectoBeatError,
)
from vectobeat_core.filters import Effects, check_filters, merge_filters
from vectobeat_core.ids import ChannelId, GuildId, NodeName, UserId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink import (
    LavalinkEvent,
    LoadResult,
    PlayerMoved,
    TrackEnd,
    TrackException,
)
from vectobeat_core.playback import (
    SeekTarget,
    check_member_room,
    check_seek,
    check_volume,
    is_link,
    queue_capacity,
    search_identifier,
)
from vectobeat_core.ports import AuditLog, Clock, Lavalink, QueueStore, RestoredQueues
from vectobeat_core.quality import quality_filters
from vectobeat_core.queue import GuildQueue, LoopMode, PlayerState, QueueEntry, QueueSnapshot
from vectobeat_core.sources import check_source, effective_source_access, search_chain, url_source
from vectobeat_core.telemetry import QueueTelemetry, TelemetryKind
from vectobeat_core.tracks import Track

__all__ = ["GuildSession", "PlayOutcome", "PlayerService", "VoiceLink"]

T = TypeVar("T")
P = ParamSpec("P")

NOT_SAVED = N_(
    "Done, but not saved yet: the queue store and the bot's local journal are both unavailable, "
    "so a restart of the bot now would lose this change. It is saved as soon as either is back."
)

_log = logging.getLogger("vectobeat.bot.player")


def acknowledged(
    method: Callable[Concatenate[PlayerService, GuildId, P], Awaitable[T]],
) -> Callable[Concatenate[PlayerService, GuildId, P], Awaitable[T]]:
    """Return only once the guild's change is durable (`PlayerService.acknowledge`): the one
    place every reply to a queue change waits for it."""

    @functools.wraps(method)
    async def wrapper(
        self: PlayerService, guild_id: GuildId, /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        result = await method(self, guild_id, *args, **kwargs)
        await self.acknowledge(guild_id)
        return result

    return wrapper


class VoiceLink(Protocol):
    """The bot's Discord voice connection, as the player service needs it."""

    async def join(self, guild_id: GuildId, channel_id: ChannelId) -> None: ...

    async def leave(self, guild_id: GuildId) -> None: ...

    async def reconnect(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        """Ask Discord for fresh voice data in ``channel_id`` (joining it if not connected)."""
        ...

    def connected_channel(self, guild_id: GuildId) -> ChannelId | None: ...


@attrs.define(eq=False)
class GuildSession:
    """One guild's queue and where it plays."""

    queue: GuildQueue
    voice_channel_id: ChannelId | None = None
    effects: Effects = attrs.Factory(Effects)
    """The filter effects members chose; played over the quality's filters."""
    lock: SlimLock = attrs.Factory(SlimLock)


@attrs.frozen
class PlayOutcome:
    """What ``/play`` did: the entries queued, the one that started (if any), a playlist name."""

    added: tuple[QueueEntry, ...]
    started: QueueEntry | None
    playlist: str | None
    position: int
    skipped: int = 0
    """Tracks left out as duplicates by the automation engine."""


class PlayerService:
    """Queues, playback and durability of every guild this process serves."""

    def __init__(
        self,
        *,
        cluster: Lavalink,
        store: QueueStore,
        writer: CoalescingWriter,
        settings: SettingsSync,
        queue_sync: QueueSync,
        audit: AuditLog,
        clock: Clock,
        seed: Callable[[], int],
    ) -> None:
        self.cluster = cluster
        self.store = store
        self.writer = writer
        self.settings = settings
        self.queue_sync = queue_sync
        self.audit = audit
        self.clock = clock
        self._seed = seed
        self._sessions: dict[GuildId, GuildSession] = {}
        self._voice: VoiceLink | None = None
        self.restored = 0
        self.resyncs = 0
        self._restoring = anyio.Lock()
        self._watchers: list[Callable[[GuildId], None]] = []
        self._start_listeners: list[Callable[[GuildId, QueueEntry], None]] = []
        self.trim: Callable[[GuildId, Sequence[Track]], Awaitable[DuplicateTrim]] | None = None
        """The automation engine's duplicate trim for `play` (``None``: nothing is trimmed)."""
        self.withheld: Callable[[], Collection[GuildId]] = frozenset
        """Guilds erased in the record whose erasure failed here so far: never restored."""
        self.keeps: Callable[[GuildId, float | None], bool] = lambda guild, at: True
        """Whether a snapshot of the guild taken at that time may be restored (not when taken
        before an erasure of the guild applied here: `ErasureCatchUp.keeps`)."""
        self.erasures_applied: Callable[[GuildId], int | None] = lambda guild: None
        """How far the erasure record is applied here for the guild (`ErasureCatchUp.applied`;
        ``None``: not followed), sent with its snapshots to the panel."""
        settings.listen(self._settings_changed)
        settings.listen_erasure(self.erase)

    def watch(self, watcher: Callable[[GuildId], None]) -> None:
        """Call ``watcher(guild_id)`` after every change of a guild's queue or player."""
        self._watchers.append(watcher)

    def on_start(self, listener: Callable[[GuildId, QueueEntry], None]) -> None:
        """Call ``listener(guild_id, entry)`` when a track starts because the one before ended
        (a command that starts a track answers for itself)."""
        self._start_listeners.append(listener)

    def attach_voice(self, voice: VoiceLink) -> None:
        self._voice = voice

    @property
    def voice(self) -> VoiceLink:
        if self._voice is None:
            raise NotFound("Voice is not connected yet; try again in a moment.")
        return self._voice

    # -- sessions --------------------------------------------------------------------------------

    def sessions(self) -> dict[GuildId, GuildSession]:
        return dict(self._sessions)

    def peek(self, guild_id: GuildId) -> GuildSession | None:
        return self._sessions.get(guild_id)

    async def session(self, guild_id: GuildId) -> GuildSession:
        found = self._sessions.get(guild_id)
        if found is None:
            held = await self.settings.get(guild_id)
            found = self._sessions.setdefault(
                guild_id,
                GuildSession(GuildQueue(guild_id, queue_capacity(held.plan, held.settings))),
            )
        return found

    async def _settings_changed(self, held: GuildSettings) -> None:
        session = self._sessions.get(held.guild_id)
        if session is not None:
            session.queue.capacity = queue_capacity(held.plan, held.settings)
        await self._apply_quality(held)

    def _filters(self, held: GuildSettings, effects: Effects | None = None) -> dict[str, JSON]:
        """The filters the guild plays with: its quality's, with its members' effects (or
        ``effects``) merged in."""
        chosen = self.effects_of(held.guild_id) if effects is None else effects
        return merge_filters(quality_filters(held.plan, held.settings), chosen)

    async def _apply_quality(self, held: GuildSettings) -> None:
        """Give the guild's player (if any) its quality's and effects' filters, unless it has them."""
        info = self.cluster.player(held.guild_id)
        filters = self._filters(held)
        if info is not None and dict(info.filters) != filters:
            await self.cluster.set_filters(held.guild_id, filters)

    def effects_of(self, guild_id: GuildId) -> Effects:
        """The filter effects the guild plays with (none when it has no session)."""
        session = self._sessions.get(guild_id)
        return Effects() if session is None else session.effects

    def queue_tracks(self) -> int:
        return sum(len(s.queue) + (s.queue.current is not None) for s in self._sessions.values())

    # -- durability ------------------------------------------------------------------------------

    def snapshot(self, guild_id: GuildId) -> QueueSnapshot:
        """The guild's queue and player now (what the writer stores and queue sync sends)."""
        session = self._sessions[guild_id]
        now = self.clock.now()
        info = self.cluster.player(guild_id)
        if info is None:
            player = PlayerState(
                position_read_at=now,
                effects=session.effects.to_json(),
                voice_channel_id=session.voice_channel_id,
            )
        else:
            player = PlayerState(
                position_ms=info.position_ms if info.track is not None else 0,
                position_read_at=now,
                paused=info.paused,
                volume=info.volume,
                filters=dict(info.filters),
                effects=session.effects.to_json(),
                voice_channel_id=session.voice_channel_id,
                node=info.node,
                region=info.region.value,
            )
        return session.queue.snapshot(player, now)

    def changed(self, guild_id: GuildId) -> None:
        """A mutation happened: persist (coalesced) and sync to the panel (plan-gated); nothing
        for a guild no longer served (erased or released meanwhile)."""
        if guild_id not in self._sessions:
            return
        held = self._mark(guild_id)
        self.queue_sync.changed(guild_id, held)
        for watcher in self._watchers:
            watcher(guild_id)

    def _mark(self, guild_id: GuildId) -> GuildSettings:
        """Mark the guild dirty in the writer, with its plan's snapshot TTL."""
        held = self.settings.cached(guild_id) or self.settings.default(guild_id)
        self.writer.mark_dirty(
            guild_id,
            functools.partial(self.snapshot, guild_id),
            float(held.plan.snapshot_ttl_seconds),
        )
        return held

    async def acknowledge(self, guild_id: GuildId) -> Durability:
        """Wait until the guild's changes so far are durable; raise `StorageUnavailable` (a
        message saying the change is not saved yet) if they could not be saved in time."""
        how = await self.writer.durable(guild_id)
        if not how.saved:
            raise StorageUnavailable(NOT_SAVED)
        return how

    def resync_all(self) -> int:
        """The store lost its data: mark every guild served here dirty; returns how many."""
        guilds = list(self._sessions)
        for guild_id in guilds:
            self._mark(guild_id)
        self.resyncs += 1
        return len(guilds)

    async def flush(self) -> None:
        await self.writer.flush()

    def _telemetry(
        self,
        kind: TelemetryKind,
        guild_id: GuildId,
        track: Track | None,
        user: UserId | None = None,
    ) -> None:
        session = self._sessions.get(guild_id)
        event = QueueTelemetry(
            kind,
            guild_id,
            self.clock.now(),
            track,
            user,
            0 if session is None else len(session.queue),
        )
        self.queue_sync.telemetry(event, self.settings.cached(guild_id))

    # -- playback --------------------------------------------------------------------------------

    async def _keep_playing(self, guild_id: GuildId, session: GuildSession) -> None:
        """The node kept the guild's player through our restart (its session was resumed):
        apply the guild's region decision and rejoin voice, without replaying the track."""
        held = await self.settings.get(guild_id)
        await self.cluster.ensure_player(guild_id, held.decision)
        await self._apply_quality(held)  # the setting may have changed while we were away
        await self._rejoin(guild_id, session)

    async def _rejoin(self, guild_id: GuildId, session: GuildSession) -> None:
        """Join the session's voice channel unless the bot is in it already."""
        channel = session.voice_channel_id
        if channel is not None and self.voice.connected_channel(guild_id) != channel:
            await self.voice.join(guild_id, channel)

    async def _start(
        self,
        guild_id: GuildId,
        session: GuildSession,
        entry: QueueEntry,
        *,
        start_ms: int = 0,
        paused: bool = False,
        volume: int | None = None,
    ) -> None:
        held = await self.settings.get(guild_id)
        await self.cluster.ensure_player(guild_id, held.decision)
        await self._rejoin(guild_id, session)
        info = self.cluster.player(guild_id)
        if volume is None:
            volume = (
                info.volume
                if info is not None and info.track is not None
                else (held.settings.default_volume)
            )
        await self.cluster.play(
            guild_id,
            entry.track,
            start_ms=start_ms,
            paused=paused,
            volume=volume,
            filters=self._filters(held),
        )
        self._telemetry("play", guild_id, entry.track, entry.track.requester)

    async def play(
        self,
        guild_id: GuildId,
        *,
        query: str,
        requester: UserId,
        voice_channel_id: ChannelId,
        front: bool = False,
        member_limit: int | None = None,
    ) -> PlayOutcome:
        """Resolve ``query`` and queue it (a playlist whole or not at all, at the front with
        ``front``); start if idle. ``member_limit``: see `add_tracks`."""
        result = await self.search(guild_id, query)
        tracks = result.tracks if result.kind == "playlist" else result.tracks[:1]
        outcome = await self.queue_found(
            guild_id,
            tracks,
            requester=requester,
            voice_channel_id=voice_channel_id,
            front=front,
            member_limit=member_limit,
        )
        playlist = result.playlist_name if result.kind == "playlist" else None
        return attrs.evolve(outcome, playlist=playlist)

    async def queue_found(
        self,
        guild_id: GuildId,
        tracks: Sequence[Track],
        *,
        requester: UserId,
        voice_channel_id: ChannelId,
        front: bool = False,
        member_limit: int | None = None,
    ) -> PlayOutcome:
        """Queue tracks a search found for ``requester`` (minus the duplicates the automation
        engine trims) through `add_tracks`."""
        tracks = tuple(attrs.evolve(t, requester=requester) for t in tracks)
        skipped = 0
        if self.trim is not None:
            trimmed = await self.trim(guild_id, tracks)
            if not trimmed.kept:
                raise InvalidInput(trimmed.message())
            tracks, skipped = trimmed.kept, len(trimmed.skipped)
        outcome = await self.add_tracks(
            guild_id, tracks, voice_channel_id, front=front, member_limit=member_limit
        )
        return attrs.evolve(outcome, skipped=skipped)

    async def search(self, guild_id: GuildId, query: str) -> LoadResult:
        """Load ``query`` within the guild's source access: a link only if its host and its loaded
        tracks' sources are allowed (else `LimitExceeded` naming the source and what allows it),
        words through each allowed source the nodes serve until one finds something."""
        identifier = search_identifier(query)
        held = await self.settings.get(guild_id)
        if is_link(identifier):
            known = url_source(identifier)
            if known is not None:  # refuse before asking a node
                check_source(known, held.plan, held.settings, self.settings.catalogue)
            results = [await self.cluster.load_tracks(identifier)]
            for source in sorted({t.source for t in results[-1].tracks}):
                check_source(source, held.plan, held.settings, self.settings.catalogue)
        else:
            level = effective_source_access(held.plan, held.settings)
            chain = search_chain(level, await self.cluster.served_sources())
            if not chain:
                raise Unavailable("No Lavalink node serves a search source this server may use.")
            words = identifier.partition(":")[2]
            results = []
            for prefix in chain:
                results.append(await self.cluster.load_tracks(f"{prefix}:{words}"))
                if results[-1].kind != "error" and results[-1].tracks:
                    break
        result = results[-1]
        if result.kind == "error":
            raise InvalidInput("That could not be loaded: {error}", error=result.error)
        if result.kind == "empty" or not result.tracks:
            raise NotFound("Nothing was found for {query}.", query=repr(query.strip()[:100]))
        return result

    async def _advance(self, guild_id: GuildId, session: GuildSession) -> QueueEntry | None:
        entry = session.queue.next()
        if entry is None:
            entry = await self._autoplay(guild_id, session)
        if entry is None:
            self._telemetry("queue_finished", guild_id, None)
            if self.cluster.player(guild_id) is not None:
                await self.cluster.stop(guild_id)
        else:
            await self._start(guild_id, session, entry)
            for listener in self._start_listeners:
                listener(guild_id, entry)
        self.changed(guild_id)
        return entry

    async def _autoplay(self, guild_id: GuildId, session: GuildSession) -> QueueEntry | None:
        """The queue ran out: with ``autoplay`` on, queue tracks related to the last one played
        (none played recently) and return the first; ``None`` (logged) if there are none."""
        history = session.queue.history
        if not history or not (await self.settings.get(guild_id)).settings.autoplay:
            return None
        try:
            found = await self.cluster.load_tracks(related_identifier(history[-1].track))
            recent = [e.track for e in history[-AUTOPLAY_RECENT:]]
            session.queue.add_many(pick_related(found.tracks, recent))
        except VectoBeatError as exc:
            _log.warning("autoplay_failed guild=%s error=%s", guild_id, exc)
            return None
        entry = session.queue.next()
        if entry is None:
            _log.info("autoplay_found_nothing guild=%s load=%s", guild_id, found.kind)
        return entry

    async def on_event(self, guild_id: GuildId, event: LavalinkEvent) -> None:
        """The cluster's callback: a track that finished (or failed to load) starts the next; a
        player a failover moved (`PlayerMoved`, playing or idle) is re-snapshotted and re-synced."""
        session = self._sessions.get(guild_id)
        if session is None:
            return
        if isinstance(event, PlayerMoved):
            _log.info(
                "player_moved guild=%s from=%s to=%s", guild_id, event.from_node, event.to_node
            )
            self.changed(guild_id)  # the snapshot and the panel must name the new node
            return
        if isinstance(event, TrackException):
            _log.warning("track_exception guild=%s message=%s", guild_id, event.message)
            return
        if not isinstance(event, TrackEnd) or not event.starts_next:
            return
        async with session.lock:
            current = session.queue.current
            if (
                current is not None
                and event.track is not None
                and (event.track.encoded != current.track.encoded)
            ):
                return  # an older track's end arriving late
            try:
                await self._advance(guild_id, session)
            except VectoBeatError as exc:
                _log.warning("advance_failed guild=%s error=%s", guild_id, exc)

    def _playing(self, session: GuildSession) -> QueueEntry:
        if session.queue.current is None:
            raise QueueEmpty("Nothing is playing right now.")
        return session.queue.current

    async def _existing(self, guild_id: GuildId) -> GuildSession:
        session = self._sessions.get(guild_id)
        if session is None:
            raise QueueEmpty("Nothing is playing and the queue is empty.")
        return session

    @acknowledged
    async def skip(self, guild_id: GuildId, count: int, user: UserId | None) -> QueueEntry | None:
        session = await self._existing(guild_id)
        async with session.lock:
            skipped = session.queue.current
            entry = session.queue.skip(count)
            self._telemetry("skip", guild_id, None if skipped is None else skipped.track, user)
            if entry is None:
                self._telemetry("queue_finished", guild_id, None)
                if self.cluster.player(guild_id) is not None:
                    await self.cluster.stop(guild_id)
            else:
                await self._start(guild_id, session, entry)
            self.changed(guild_id)
            return entry

    @acknowledged
    async def jump(self, guild_id: GuildId, position: int) -> QueueEntry:
        return await self._play_chosen(guild_id, lambda queue: queue.jump(position))

    @acknowledged
    async def previous(self, guild_id: GuildId) -> QueueEntry:
        """Play the last entry of the history again; the current one is queued first."""
        return await self._play_chosen(guild_id, GuildQueue.previous)

    async def _play_chosen(
        self, guild_id: GuildId, choose: Callable[[GuildQueue], QueueEntry]
    ) -> QueueEntry:
        """Under the guild's lock: make ``choose(queue)`` the current entry, start it, announce."""
        session = await self._existing(guild_id)
        async with session.lock:
            entry = choose(session.queue)
            await self._start(guild_id, session, entry)
            self.changed(guild_id)
            return entry

    @acknowledged
    async def set_paused(self, guild_id: GuildId, paused: bool) -> QueueEntry:
        session = await self._existing(guild_id)
        async with session.lock:
            entry = self._playing(session)
            info = self.cluster.player(guild_id)
            if info is not None and info.paused == paused:
                if paused:
                    raise InvalidInput("The player is already paused.")
                raise InvalidInput("The player is not paused.")
            await self.cluster.set_paused(guild_id, paused)
            self.changed(guild_id)
            return entry

    async def seek(self, guild_id: GuildId, position_ms: int) -> QueueEntry:
        """Seek the current track to ``position_ms``; returns the entry (see `seek_to`)."""
        entry, _ = await self.seek_to(guild_id, SeekTarget(position_ms))
        return entry

    @acknowledged
    async def seek_to(self, guild_id: GuildId, target: SeekTarget) -> tuple[QueueEntry, int]:
        """Seek the current track to ``target`` (a position, or a step from where it is now);
        returns the entry and the position sought."""
        session = await self._existing(guild_id)
        async with session.lock:
            entry = self._playing(session)
            info = self.cluster.player(guild_id)
            ms = check_seek(entry.track, target.resolve(0 if info is None else info.position_ms))
            await self.cluster.seek(guild_id, ms)
            self.changed(guild_id)
            return entry, ms

    @acknowledged
    async def replay(self, guild_id: GuildId) -> QueueEntry:
        """Start the current track again: a seek to 0, or (a stream or an unseekable track)
        playing it anew."""
        session = await self._existing(guild_id)
        async with session.lock:
            entry = self._playing(session)
            track = entry.track
            if track.is_seekable and not track.is_stream:
                await self.cluster.seek(guild_id, 0)
            else:
                await self._start(guild_id, session, entry)
            self.changed(guild_id)
            return entry

    @acknowledged
    async def set_volume(self, guild_id: GuildId, volume: int) -> None:
        check_volume(volume)
        session = await self._existing(guild_id)
        async with session.lock:
            self._playing(session)
            await self.cluster.set_volume(guild_id, volume)
            self.changed(guild_id)

    @acknowledged
    async def set_effects(self, guild_id: GuildId, change: Callable[[Effects], Effects]) -> Effects:
        """Change the guild's filter effects (``change(current)``) and play with them at once;
        the effects apply to every later track, across failover and restarts."""
        session = await self._existing(guild_id)
        async with session.lock:
            effects = change(session.effects)
            held = await self.settings.get(guild_id)
            filters = check_filters(self._filters(held, effects))
            if self.cluster.player(guild_id) is not None:
                await self.cluster.set_filters(guild_id, filters)
            session.effects = effects
            self.changed(guild_id)
            return effects

    @acknowledged
    async def set_loop(self, guild_id: GuildId, mode: LoopMode | str) -> None:
        session = await self.session(guild_id)
        async with session.lock:
            session.queue.set_loop(mode)
            self.changed(guild_id)

    @acknowledged
    async def stop(self, guild_id: GuildId) -> int:
        """Stop playback and clear the queue; returns how many upcoming tracks were dropped."""
        session = await self._existing(guild_id)
        async with session.lock:
            if session.queue.current is None and not len(session.queue):
                raise QueueEmpty("Nothing is playing and the queue is empty.")
            dropped = session.queue.clear()
            if session.queue.current is not None:
                session.queue.stop()
            if self.cluster.player(guild_id) is not None:
                await self.cluster.stop(guild_id)
            self.changed(guild_id)
            return dropped

    @acknowledged
    async def edit(self, guild_id: GuildId, action: Callable[[GuildQueue], T]) -> T:
        """Run a queue edit (remove, move, shuffle, clear) under the guild's lock and persist."""
        session = await self.session(guild_id)
        async with session.lock:
            result = action(session.queue)
            self.changed(guild_id)
            return result

    def shuffle_seed(self) -> int:
        return self._seed()

    @acknowledged
    async def add_tracks(
        self,
        guild_id: GuildId,
        tracks: Sequence[Track],
        voice_channel_id: ChannelId,
        *,
        front: bool = False,
        member_limit: int | None = None,
    ) -> PlayOutcome:
        """Queue resolved tracks all-or-nothing, at the end or (``front``) next; start playing if
        nothing plays yet. ``member_limit`` (the requester's per-member limit, ``None`` for none)
        refuses tracks that would give the requester of the first track more queued than that."""
        session = await self.session(guild_id)
        async with session.lock:
            if member_limit and tracks:
                requester = tracks[0].requester
                queued = sum(1 for e in session.queue if e.track.requester == requester)
                check_member_room(member_limit, queued, len(tracks))
            position = 1 if front else len(session.queue) + 1
            added = session.queue.add_many(tracks, position)
            session.voice_channel_id = voice_channel_id
            started = None
            try:
                info = self.cluster.player(guild_id)
                if session.queue.current is None:
                    started = session.queue.next()
                elif info is None or info.track is None:
                    started = session.queue.current  # queued, but an earlier start failed
                if started is not None:
                    await self._start(guild_id, session, started)
            finally:
                self.changed(guild_id)
        return PlayOutcome(added, started, None, position)

    async def restart_idle(self, guild_id: GuildId) -> QueueEntry | None:
        """Start the current (else the next) entry of a guild whose player plays nothing; the
        entry started, or ``None`` if it plays already or nothing is queued."""
        session = await self._existing(guild_id)
        async with session.lock:
            info = self.cluster.player(guild_id)
            if info is not None and info.track is not None:
                return None
            entry = session.queue.current or session.queue.next()
            if entry is not None:
                await self._start(guild_id, session, entry)
                self.changed(guild_id)
            return entry

    # -- voice -----------------------------------------------------------------------------------

    async def reconnect_voice(self, guild_id: GuildId) -> ChannelId | None:
        """Connect the session's voice channel again (fresh voice data for the node); the channel,
        or ``None`` if the guild has no channel to go back to."""
        session = await self._existing(guild_id)
        async with session.lock:
            channel = session.voice_channel_id
            if channel is None:
                return None
            await self.voice.reconnect(guild_id, channel)
            return channel

    @acknowledged
    async def connect(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        session = await self.session(guild_id)
        async with session.lock:
            held = await self.settings.get(guild_id)
            await self.cluster.ensure_player(guild_id, held.decision)
            session.voice_channel_id = channel_id
            await self.voice.join(guild_id, channel_id)
            self.changed(guild_id)

    async def disconnect(self, guild_id: GuildId) -> None:
        """Leave voice, drop the player and forget the guild's queue (and its snapshot)."""
        session = self._sessions.pop(guild_id, None)
        if self._voice is not None:
            await self._voice.leave(guild_id)
        await self.cluster.destroy(guild_id)
        if session is not None:
            await self.writer.flush()
        await self.store.delete(guild_id)

    async def erase(self, guild_id: GuildId) -> None:
        """Right to erasure: stop the guild's player, leave voice and forget its queue here, in
        the writer and journal, and in the queue store; nothing of it is written again unless
        the guild plays anew. Every step runs; failed ones are logged, then raised together
        (`StorageUnavailable`), so the erasure is tried again."""
        failed: list[str] = []
        try:  # first: waits for a write of the guild in flight, then nothing is pending
            await self.writer.erase(guild_id)
        except VectoBeatError as exc:
            _log.warning("erase_step_failed guild=%s step=journal error=%s", guild_id, exc)
            failed.append(exc.message)
        session = self._sessions.pop(guild_id, None)

        async def leave_voice() -> None:
            if self._voice is not None:
                await self._voice.leave(guild_id)

        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("voice", leave_voice),
            ("player", lambda: self.cluster.destroy(guild_id)),
            ("store", lambda: self.store.delete(guild_id)),
        ]
        for name, step in steps:
            try:
                await step()
            except VectoBeatError as exc:
                _log.warning("erase_step_failed guild=%s step=%s error=%s", guild_id, name, exc)
                failed.append(exc.message)
        if failed:
            raise StorageUnavailable(
                "The queue of guild {guild} is not erased everywhere yet: {problems}",
                guild=guild_id,
                problems="; ".join(failed),
            )
        _log.info("queue_erased guild=%s had_session=%s", guild_id, session is not None)

    async def release(self, guilds: Collection[GuildId]) -> int:
        """Hand ``guilds`` to another process (a fenced shard): forget their queues and Lavalink
        players here, keep their snapshots; returns how many were served here."""
        released = 0
        for guild_id in guilds:
            self.writer.forget(guild_id)
            if self._sessions.pop(guild_id, None) is None:
                continue
            released += 1
            try:
                await self.cluster.destroy(guild_id)
            except VectoBeatError as exc:
                _log.warning("release_failed guild=%s error=%s", guild_id, exc)
        return released

    # -- restore ---------------------------------------------------------------------------------

    async def restore_all(self, guilds: Collection[GuildId]) -> int:
        """Rebuild every stored player of ``guilds``: queue, voice, track and position.

        Calls are serialized; a guild already served here is left alone, and so is a guild
        whose erasure is still to be applied here (`withheld`) and a snapshot taken before an
        erasure of its guild applied here (`keeps`)."""
        withheld = self.withheld()
        async with self._restoring:
            return await self._restore_all([g for g in guilds if g not in withheld])

    async def _stored_or_journaled(self) -> list[QueueSnapshot]:
        """Every guild's latest snapshot: the store's, unless the journal holds a later one (the
        store was down when it was taken and has not taken the replay yet)."""
        try:
            journaled = await self.writer.journaled_snapshots()
        except Unavailable as exc:
            _log.error("queue_journal_unreadable error=%s", exc)
            journaled = []
        try:
            found = await self.store.load_all()
        except Unavailable as exc:
            if not journaled:
                raise
            _log.warning("restore_from_journal_only error=%s", exc)
            found = RestoredQueues((), ())
        for problem in found.invalid:
            _log.warning("snapshot_unreadable error=%s", problem)
        latest = {snapshot.guild_id: snapshot for snapshot in found.snapshots}
        for entry in journaled:
            stored = latest.get(entry.guild_id)
            if not store_is_newer(entry, None if stored is None else stored.taken_at):
                latest[entry.guild_id] = entry.snapshot
        return list(latest.values())

    async def _restore_all(self, guilds: Collection[GuildId]) -> int:
        restored = 0
        for snapshot in await self._stored_or_journaled():
            if snapshot.guild_id not in guilds or snapshot.guild_id in self._sessions:
                continue
            if not self.keeps(snapshot.guild_id, snapshot.taken_at):
                _log.info("snapshot_from_before_erasure guild=%s", snapshot.guild_id)
                continue
            try:
                await self._restore(snapshot)
            except VectoBeatError as exc:
                _log.warning("restore_failed guild=%s error=%s", snapshot.guild_id, exc)
                continue
            restored += 1
        self.restored += restored
        return restored

    async def _restore(self, snapshot: QueueSnapshot) -> None:
        guild_id = snapshot.guild_id
        held = await self.settings.get(guild_id)
        queue = GuildQueue.restore(snapshot, queue_capacity(held.plan, held.settings))
        player = snapshot.player
        session = GuildSession(queue, player.voice_channel_id, _stored_effects(player.effects))
        self._sessions[guild_id] = session
        now = self.clock.now()
        async with session.lock:
            current = queue.current
            kept = self.cluster.player(guild_id)
            if (
                current is not None
                and kept is not None
                and kept.track is not None
                and kept.track.encoded == current.track.encoded
            ):
                await self._keep_playing(guild_id, session)
            elif current is not None and player.voice_channel_id is not None:
                position = player.position_at(now)
                if not current.track.is_stream and position >= current.track.length:
                    await self._advance(guild_id, session)
                else:
                    await self._start(
                        guild_id,
                        session,
                        current,
                        start_ms=position,
                        paused=player.paused,
                        volume=player.volume,
                    )
            elif player.voice_channel_id is not None and held.settings.stay_connected:
                await self.cluster.ensure_player(guild_id, held.decision)  # 24/7: stay, idle
                await self._rejoin(guild_id, session)
            self.changed(guild_id)
        info = self.cluster.player(guild_id)
        node: NodeName | None = None if info is None else info.node
        tracks = len(queue) + (queue.current is not None)
        try:
            await self.audit.append(AuditEvent.queue_restored(guild_id, tracks, node, now))
        except VectoBeatError as exc:
            _log.warning("audit_failed kind=queue_restored error=%s", exc)


def _stored_effects(stored: Mapping[str, JSON]) -> Effects:
    """A snapshot's effects; ones Lavalink would refuse are dropped (logged), not fatal."""
    try:
        return Effects.from_json(stored)
    except InvalidInput as exc:
        _log.warning("stored_effects_dropped error=%s", exc)
        return Effects()
