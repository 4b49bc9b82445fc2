"""The fake node's state machine: sessions, players, playback timers and the events they emit.

The HTTP and websocket handlers (``rest.py``, ``gateway.py``) only parse and validate; every
change of state happens here, so events go out in the order Lavalink sends them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

import attrs

from vectobeat_testkit.lavalink.catalogue import Catalogue
from vectobeat_testkit.lavalink.faults import Faults
from vectobeat_testkit.lavalink.player import PlaybackClock, PlayerState, PlayingTrack
from vectobeat_testkit.lavalink.profiles import ServerProfile
from vectobeat_testkit.lavalink.protocol import event, stats_json
from vectobeat_testkit.lavalink.session import Connection, Session

__all__ = ["Engine", "RecordedRequest", "TrackEndReason"]

TrackEndReason = str
"""One of ``finished``, ``loadFailed``, ``stopped``, ``replaced``, ``cleanup``."""

_ALPHABET = string.ascii_lowercase + string.digits
_END_SLACK_MS = 1.0


@attrs.frozen
class RecordedRequest:
    """One REST call the node received (for assertions)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class Engine:
    """Sessions and players of one fake node."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        clock: PlaybackClock,
        faults: Faults,
        version: str,
        player_update_interval: float = 5.0,
        profile: ServerProfile | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.profile = profile if profile is not None else ServerProfile()
        self.player_update_interval = player_update_interval
        self.clock = clock
        self.faults = faults
        self.version = version
        self.sessions: dict[str, Session] = {}
        self.requests: list[RecordedRequest] = []
        self.started_ms = int(time.time() * 1000)
        self.system_load = 0.05
        self.lavalink_load = 0.01
        self.frame_deficit = 0
        self._recent: collections.deque[float] = collections.deque()
        self._changed = asyncio.Event()
        self._retired: list[tuple[str, dict[str, Any]]] = []

    # -- change notification -------------------------------------------------------------------

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds, re-checked on every change (and every 50 ms for
        clock-driven facts such as positions); bound it with ``asyncio.timeout``."""
        while not predicate():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.05)

    def busy(self) -> bool:
        """Whether ``profile.busy_from`` or more REST requests arrived within the last second
        (this one counted): the load under which the slow-replies profile answers slowly."""
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        return len(self._recent) >= self.profile.busy_from

    # -- sessions ------------------------------------------------------------------------------

    def new_session(self, user_id: int, client_name: str | None) -> Session:
        while True:
            session_id = "".join(secrets.choice(_ALPHABET) for _ in range(16))
            if session_id not in self.sessions:
                break
        session = Session(session_id, user_id, client_name, self.profile.websocket_messages)
        self.sessions[session_id] = session
        self.notify()
        return session

    def live_session(self, session_id: str) -> Session | None:
        """The session REST may use: known and not paused (a paused one is 404, as in Lavalink)."""
        session = self.sessions.get(session_id)
        return None if session is None or session.paused else session

    def connect(self, session: Session, connection: Connection, *, resumed: bool) -> None:
        replay = session.attach(connection)
        session.send({"op": "ready", "resumed": resumed, "sessionId": session.id})
        for payload in replay:
            session.send(payload)
        if resumed:
            for player in session.players.values():
                self.send_player_update(session, player)
        session.send({"op": "stats", **self.stats(websocket=True)}, replay=False)
        self.notify()

    def disconnect(self, session: Session, connection: Connection) -> None:
        """The websocket closed: pause a resumable session, else shut it down."""
        if session.connection is not connection or session.id not in self.sessions:
            return
        session.connection = None
        if session.resuming:
            session.paused = True
            loop = asyncio.get_running_loop()
            session.expiry = loop.call_later(session.timeout, self.shutdown, session)
        else:
            self.shutdown(session)
        self.notify()

    def shutdown(self, session: Session) -> None:
        """Destroy a session and its players without telling anyone (it has no socket)."""
        session.cancel_timers()
        session.players.clear()
        session.pending.clear()
        if self.sessions.pop(session.id, None) is not None:
            self._retired += [(session.id, payload) for payload in session.sent]
        self.notify()

    def sent_log(self) -> list[tuple[str, dict[str, Any]]]:
        """``(session id, payload)`` for every websocket message sent, ended sessions first."""
        live = [(s.id, m) for s in self.sessions.values() for m in s.sent]
        return self._retired + live

    def clear(self) -> None:
        for session in list(self.sessions.values()):
            self.shutdown(session)

    # -- players -------------------------------------------------------------------------------

    def player(self, session: Session, guild_id: int) -> PlayerState:
        player = session.players.get(guild_id)
        if player is None:
            player = PlayerState(guild_id=guild_id, session_id=session.id, clock=self.clock)
            session.players[guild_id] = player
            self.notify()
        return player

    def play(
        self,
        session: Session,
        player: PlayerState,
        track: PlayingTrack,
        *,
        position: int,
        end_time: int | None,
        paused: bool,
    ) -> None:
        if player.track is not None:
            self._end(session, player, "replaced")
        player.paused = paused
        track = attrs.evolve(
            track, json={**track.json, "info": self.profile.track_info(track.json["info"])}
        )
        late_seek = position if self.profile.seek_after_play and position > 0 else None
        player.start(track, 0 if late_seek is not None else position, end_time)
        if late_seek is not None:
            asyncio.get_running_loop().call_later(
                0.3, self._late_seek, session, player, track, late_seek
            )
        session.send(event("TrackStartEvent", player.guild_id, track=player.track_json()))
        if player.guild_id not in session.update_timers:
            self._send_update_and_rearm(session, player.guild_id)
        self.reschedule(session, player)

    def _late_seek(
        self, session: Session, player: PlayerState, track: PlayingTrack, position: int
    ) -> None:
        """The ``seek-after-play`` profile: the position of a play arrives after its answer."""
        if player.track is not track or session.players.get(player.guild_id) is not player:
            return
        player.rebase(position)
        self.reschedule(session, player)
        self.send_player_update(session, player)

    def stop(self, session: Session, player: PlayerState, reason: TrackEndReason) -> None:
        if player.track is not None:
            self._end(session, player, reason)
        self.reschedule(session, player)

    def _end(self, session: Session, player: PlayerState, reason: TrackEndReason) -> None:
        handle = session.update_timers.pop(player.guild_id, None)
        if handle is not None:
            handle.cancel()
        track = player.track_json()
        player.stop()
        session.send(event("TrackEndEvent", player.guild_id, track=track, reason=reason))
        self.notify()

    def destroy_player(self, session: Session, guild_id: int) -> None:
        player = session.players.get(guild_id)
        if player is None:
            return
        self.stop(session, player, "cleanup")
        session.players.pop(guild_id, None)
        self.notify()

    def reschedule(self, session: Session, player: PlayerState) -> None:
        """(Re)arm the timer that ends the player's track when its position reaches the end."""
        handle = session.end_timers.pop(player.guild_id, None)
        if handle is not None:
            handle.cancel()
        remaining = player.remaining_ms()
        if remaining is not None:
            loop = asyncio.get_running_loop()
            session.end_timers[player.guild_id] = loop.call_later(
                self.clock.real_seconds(remaining), self._finish, session, player.guild_id
            )
        self.notify()

    def _finish(self, session: Session, guild_id: int) -> None:
        session.end_timers.pop(guild_id, None)
        player = session.players.get(guild_id)
        if player is None or player.track is None:
            return
        remaining = player.remaining_ms()
        if remaining is None:
            return
        if remaining > _END_SLACK_MS:
            self.reschedule(session, player)
            return
        self._end(session, player, "finished")

    def _send_update_and_rearm(self, session: Session, guild_id: int) -> None:
        """Lavalink's per-player ``playerUpdate`` schedule: one at track start, then one every
        ``player_update_interval`` until the track ends (players are not updated in step)."""
        player = session.players.get(guild_id)
        if player is None or player.track is None:
            session.update_timers.pop(guild_id, None)
            return
        self.send_player_update(session, player)
        session.update_timers[guild_id] = asyncio.get_running_loop().call_later(
            self.player_update_interval, self._send_update_and_rearm, session, guild_id
        )

    def send_player_update(self, session: Session, player: PlayerState) -> None:
        session.send(
            {"op": "playerUpdate", "guildId": str(player.guild_id), "state": player.state_json()},
            replay=False,
        )
        self.notify()

    # -- test triggers -------------------------------------------------------------------------

    def find_player(self, guild_id: int) -> tuple[Session, PlayerState]:
        for session in self.sessions.values():
            if guild_id in session.players:
                return session, session.players[guild_id]
        raise KeyError(f"no player for guild {guild_id} on this node")

    def track_exception(self, guild_id: int, message: str, severity: str, cause: str) -> None:
        session, player = self.find_player(guild_id)
        exception = {
            "message": message,
            "severity": severity,
            "cause": cause,
            "causeStackTrace": f"{cause}: {message}",
        }
        session.send(
            event("TrackExceptionEvent", guild_id, track=player.track_json(), exception=exception)
        )
        self.stop(session, player, "loadFailed")

    def track_stuck(self, guild_id: int, threshold_ms: int) -> None:
        session, player = self.find_player(guild_id)
        session.send(
            event("TrackStuckEvent", guild_id, track=player.track_json(), thresholdMs=threshold_ms)
        )
        self.notify()

    def websocket_closed(self, guild_id: int, code: int, reason: str, by_remote: bool) -> None:
        session, player = self.find_player(guild_id)
        player.voice = {}
        session.send(
            event("WebSocketClosedEvent", guild_id, code=code, reason=reason, byRemote=by_remote)
        )
        self.send_player_update(session, player)

    # -- periodic ops --------------------------------------------------------------------------

    def all_players(self) -> list[PlayerState]:
        return [p for s in self.sessions.values() for p in s.players.values()]

    def stats(self, *, websocket: bool) -> dict[str, Any]:
        players = self.all_players()
        uptime_ms = int(time.time() * 1000) - self.started_ms
        frame_stats = None
        if websocket and players:
            frame_stats = {"sent": 3000, "nulled": 0, "deficit": self.frame_deficit}
            if self.profile.cumulative_frames:
                minutes = max(uptime_ms / 60_000, 1.0)
                frame_stats = {key: round(value * minutes) for key, value in frame_stats.items()}
        scale = 4.0 if self.profile.load_average else 1.0  # stats_json reports 4 cores
        return stats_json(
            players=len(players),
            playing=sum(1 for p in players if p.playing),
            uptime_ms=uptime_ms,
            system_load=self.system_load * scale,
            lavalink_load=self.lavalink_load * scale,
            frame_stats=frame_stats,
        )

    def broadcast_stats(self) -> None:
        payload = {"op": "stats", **self.stats(websocket=True)}
        for session in self.sessions.values():
            session.send(payload, replay=False)

    def broadcast_player_updates(self) -> None:
        for session in list(self.sessions.values()):
            for player in list(session.players.values()):
                if player.track is not None:
                    self.send_player_update(session, player)
