"""`FakeLavalinkNode`: the server's lifecycle, fault injection and inspection for tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.log import access_logger

from vectobeat_testkit.lavalink.catalogue import Catalogue
from vectobeat_testkit.lavalink.engine import Engine, RecordedRequest
from vectobeat_testkit.lavalink.faults import Faults
from vectobeat_testkit.lavalink.gateway import websocket
from vectobeat_testkit.lavalink.player import PlaybackClock, PlayerSnapshot
from vectobeat_testkit.lavalink.profiles import ServerProfile
from vectobeat_testkit.lavalink.rest import ENGINE, OPTIONS, NodeOptions, middlewares, routes
from vectobeat_testkit.lavalink.session import Session
from vectobeat_testkit.serving import serve

__all__ = ["FakeLavalinkNode"]


async def _api_version_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Lavalink-Api-Version"] = "4"


class FakeLavalinkNode:
    """A Lavalink v4 node on loopback that a real client cannot tell from Lavalink.

    ``speed`` accelerates the playback clock (``speed=10`` plays a 3-minute track in 18 s);
    ``player_update_interval`` (each player's, from its track start, as Lavalink schedules them) and
    ``stats_interval`` are real seconds between those ops; ``profile`` makes it deviate as some
    Lavalink-compatible servers do (`vectobeat_testkit.lavalink.profiles`); ``lyrics_plugin``
    adds the LavaLyrics plugin's routes (`vectobeat_testkit.lavalink.lyrics`).
    """

    def __init__(
        self,
        *,
        password: str = "youshallnotpass",  # noqa: S107 - Lavalink's documented default
        name: str = "fake-1",
        region: str = "local",
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = "4.2.2",
        catalogue: Catalogue | None = None,
        speed: float = 1.0,
        clock_source: Callable[[], float] | None = None,
        player_update_interval: float = 5.0,
        stats_interval: float = 60.0,
        metrics: bool = True,
        require_client_name: bool = False,
        profile: ServerProfile | None = None,
        lyrics_plugin: bool = False,
    ) -> None:
        self.name = name
        self.region = region
        self.host = host
        self.password = password
        self._port = port
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        clock = PlaybackClock(speed) if clock_source is None else PlaybackClock(speed, clock_source)
        self._faults = Faults()
        self._engine = Engine(
            catalogue=self.catalogue,
            clock=clock,
            faults=self._faults,
            version=version,
            player_update_interval=player_update_interval,
            profile=profile,
        )
        self._options = NodeOptions(
            password=password,
            metrics=metrics and not self._engine.profile.no_metrics,
            require_client_name=require_client_name,
            lyrics_plugin=lyrics_plugin,
        )
        self._stats_interval = stats_interval
        self._runner: web.AppRunner | None = None
        self._loops: list[asyncio.Task[None]] = []
        self.killed = False

    @property
    def lyrics_plugin(self) -> bool:
        """Whether the node has the LavaLyrics plugin (`vectobeat_testkit.lavalink.lyrics`)."""
        return self._options.lyrics_plugin

    @lyrics_plugin.setter
    def lyrics_plugin(self, present: bool) -> None:
        self._options.lyrics_plugin = present

    def __repr__(self) -> str:
        return f"<FakeLavalinkNode {self.name} region={self.region} port={self._port}>"

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeLavalinkNode:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> FakeLavalinkNode:
        """Listen on ``host:port`` (port 0 picks a free one, kept for `revive`)."""
        app = web.Application(middlewares=middlewares)
        app[ENGINE] = self._engine
        app[OPTIONS] = self._options
        app.router.add_routes([*routes, web.get("/v4/websocket", websocket)])
        app.on_response_prepare.append(_api_version_header)
        self._runner, self._port = await serve(
            app,
            self.host,
            self._port,
            access_log=access_logger,
            shutdown_timeout=0.25,
            reuse_address=True,
        )
        self.killed = False
        self._loops = [asyncio.get_running_loop().create_task(self._stats_every())]
        return self

    async def stop(self) -> None:
        """Close every websocket and stop serving; sessions and players are discarded."""
        connections = self._abort_connections()
        self._engine.clear()
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops = []
        for connection in connections:
            await connection.finish()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _stats_every(self) -> None:
        while True:
            await asyncio.sleep(self._stats_interval)
            self._engine.broadcast_stats()

    def _abort_connections(self) -> list[Any]:
        connections = [s.connection for s in self._engine.sessions.values() if s.connection]
        for connection in connections:
            connection.abort()
        return connections

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._port}/v4/websocket"

    # -- faults --------------------------------------------------------------------------------

    async def kill(self) -> None:
        """Die: websockets cut, sessions lost, new connections refused (until `revive`)."""
        self.killed = True
        await self.stop()

    def hang(self) -> None:
        """Accept connections but answer nothing, HTTP or websocket (until `revive`)."""
        self._faults.hang()

    def slow(self, ms: float) -> None:
        """Add ``ms`` of latency to every HTTP answer and websocket handshake."""
        self._faults.slow(ms)

    async def drop_websocket(self) -> None:
        """Cut websockets only; resumable sessions pause (and can be resumed), others end."""
        connections = self._abort_connections()
        for connection in connections:
            await connection.finish()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self.wait_for(lambda: all(not s.connection for s in self.sessions.values()))

    def refuse_new_players(self, refuse: bool = True) -> None:
        """Answer 503 to player updates that would create a player."""
        self._faults.refuse_new_players = refuse

    def answer_garbage(self, garbage: bool = True) -> None:
        """Answer every REST call but ``/version`` with a body that is not JSON (until `revive`)."""
        self._faults.garbage = garbage

    def send_garbage(self, text: str = "{this is not json") -> None:
        """Send ``text`` as a raw websocket frame to every connected session."""
        for session in self._engine.sessions.values():
            if session.connection is not None:
                session.connection.send_raw(text)

    async def revive(self) -> None:
        """Clear every fault; a killed node listens again on the same port (with no sessions)."""
        self._faults.clear()
        if self._runner is None:
            await self.start()

    # -- events tests trigger ------------------------------------------------------------------

    def track_exception(
        self,
        guild_id: int,
        message: str = "Something broke when playing the track.",
        *,
        severity: str = "fault",
        cause: str = "java.lang.IllegalStateException",
    ) -> None:
        """Send TrackExceptionEvent, then TrackEndEvent(loadFailed), and stop the track."""
        self._engine.track_exception(guild_id, message, severity, cause)

    def stop_track(self, guild_id: int) -> None:
        """The node stops the guild's track by itself (TrackEndEvent ``stopped``); the player stays
        and plays nothing."""
        session, player = self._engine.find_player(guild_id)
        self._engine.stop(session, player, "stopped")

    def track_stuck(self, guild_id: int, threshold_ms: int = 10_000) -> None:
        self._engine.track_stuck(guild_id, threshold_ms)

    def websocket_closed(
        self,
        guild_id: int,
        *,
        code: int = 4006,
        reason: str = "Session is no longer valid.",
        by_remote: bool = True,
    ) -> None:
        """Discord closed the player's voice websocket: WebSocketClosedEvent, voice cleared."""
        self._engine.websocket_closed(guild_id, code, reason, by_remote)

    def set_load(
        self,
        *,
        system_load: float | None = None,
        lavalink_load: float | None = None,
        frame_deficit: int | None = None,
    ) -> None:
        """What ``stats`` reports for CPU load and the frame deficit."""
        if system_load is not None:
            self._engine.system_load = system_load
        if lavalink_load is not None:
            self._engine.lavalink_load = lavalink_load
        if frame_deficit is not None:
            self._engine.frame_deficit = frame_deficit

    def send_stats(self) -> None:
        """Send a ``stats`` op now to every connected session."""
        self._engine.broadcast_stats()

    def send_player_updates(self) -> None:
        """Send ``playerUpdate`` now for every player with a track."""
        self._engine.broadcast_player_updates()

    # -- inspection ----------------------------------------------------------------------------

    @property
    def players(self) -> dict[int, PlayerSnapshot]:
        return {p.guild_id: p.snapshot() for p in self._engine.all_players()}

    @property
    def sessions(self) -> dict[str, Session]:
        return dict(self._engine.sessions)

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self._engine.requests)

    @property
    def clock(self) -> PlaybackClock:
        return self._engine.clock

    def sent(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Websocket payloads sent so far (to one session or all; ended sessions included)."""
        return [m for sid, m in self._engine.sent_log() if session_id in (None, sid)]

    def events(self, guild_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        """``event`` ops sent for ``guild_id`` (optionally only of ``kind``)."""
        return [
            m
            for m in self.sent()
            if m.get("op") == "event"
            and str(m.get("guildId")) == str(guild_id)
            and kind in (None, m.get("type"))
        ]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` is true, re-checked on every change of the node.

        Bound it: ``async with asyncio.timeout(5): await node.wait_for(...)``.
        """
        await self._engine.wait_for(predicate)
