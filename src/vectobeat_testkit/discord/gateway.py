"""The fake gateway: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats, RESUME, voice, zlib-stream.

Frames are JSON; when the client asks for ``compress=zlib-stream`` they are sent as binary frames
from one shared zlib stream, each ending with ``Z_SYNC_FLUSH`` (as Discord does). Other
compressions (``zstd-stream``) are answered with plain text frames, which clients accept.

Faults: ``stall(shard)`` makes a shard's live connection go silent (no ACKs, no events) while its
socket stays open, as a stuck path does. A connection that sends nothing for two heartbeat
intervals is closed with 4009 (Discord's "Session timed out"), as a frozen process's would be.
Two live sessions for one shard (a second IDENTIFY or RESUME while the first connection still
works) are recorded in ``overlaps``; ``assert_single_sessions()`` fails a test that caused one.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from vectobeat_core.ids import ChannelId

from .state import FakeGuild, FakeVoiceState, Json
from .world import World

__all__ = ["Gateway", "GatewaySession", "ShardOverlap"]

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
HEARTBEAT_ACK_DELAY_S = 0.05
"""How long the fake takes to ACK a heartbeat: a round trip to Discord."""
BACKLOG = 2000
SESSION_TIMEOUT_HEARTBEATS = 2
"""Heartbeat intervals without any frame from the client before its connection is closed."""


@dataclass(frozen=True)
class ShardOverlap:
    """A second live gateway session for a shard that already had one."""

    shard_id: int
    live_session: str
    new_session: str
    how: str  # "identify" or "resume"


class GatewaySession:
    """One identified session of one shard; survives disconnects so it can be resumed."""

    def __init__(self, shard_id: int, shard_count: int, intents: int) -> None:
        self.session_id = secrets.token_hex(16)
        self.shard_id = shard_id
        self.shard_count = shard_count
        self.intents = intents
        self.seq = 0
        self.backlog: list[Json] = []
        self.ws: web.WebSocketResponse | None = None
        self.compressor: Any = None
        self.resumed_count = 0
        self.stalled = False
        """The connection is silent (``Gateway.stall``): nothing reaches the client."""

    @property
    def live(self) -> bool:
        """Connected and answering: a stalled connection is not live for the client."""
        return self.ws is not None and not self.ws.closed and not self.stalled

    def owns(self, guild: FakeGuild) -> bool:
        return guild.shard_id(self.shard_count) == self.shard_id

    async def send(self, frame: Json) -> None:
        ws = self.ws
        if ws is None or ws.closed or self.stalled:
            return
        await send_frame(ws, self.compressor, frame)

    async def dispatch(self, event: str, data: Any) -> None:
        self.seq += 1
        frame: Json = {"op": DISPATCH, "s": self.seq, "t": event, "d": data}
        self.backlog = [*self.backlog[-BACKLOG:], frame]
        await self.send(frame)


async def send_frame(ws: web.WebSocketResponse, compressor: Any, frame: Json) -> None:
    text = json.dumps(frame, separators=(",", ":"))
    try:
        if compressor is None:
            await ws.send_str(text)
        else:
            data = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
            await ws.send_bytes(data)
    except ConnectionResetError:
        return


class Gateway:
    """All gateway sessions; routes guild events to the shard owning the guild."""

    def __init__(
        self,
        world: World,
        *,
        heartbeat_interval_ms: int,
        gateway_url: Callable[[], str],
        voice_endpoint: Callable[[], str],
    ) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_url = gateway_url
        self.voice_endpoint = voice_endpoint
        self.sessions: dict[str, GatewaySession] = {}
        self.by_shard: dict[int, GatewaySession] = {}
        self.identify_count = 0
        self.heartbeats = 0
        self.heartbeat_ack_delay_s = HEARTBEAT_ACK_DELAY_S
        self.overlaps: list[ShardOverlap] = []
        self._acks: set[asyncio.Task[None]] = set()

    def stall(self, shard_id: int) -> None:
        """Silence the shard's current connection (its socket stays open) until it is replaced."""
        self.by_shard[shard_id].stalled = True

    def assert_single_sessions(self) -> None:
        """Fail if any shard ever had two live sessions at once."""
        if self.overlaps:
            raise AssertionError(f"shards with two live gateway sessions: {self.overlaps}")

    def _note_overlap(self, shard_id: int, new: GatewaySession, how: str) -> None:
        current = self.by_shard.get(shard_id)
        if current is None or current is new or current.ws is None or current.ws.closed:
            return
        self.overlaps.append(ShardOverlap(shard_id, current.session_id, new.session_id, how))

    def _ack_later(
        self, ws: web.WebSocketResponse, compressor: Any, session: GatewaySession | None
    ) -> None:
        """ACK a heartbeat after a network round trip, as Discord does. discord.py records a
        heartbeat's send time in its keep-alive thread only after the send completed; an ACK
        faster than that is measured against the previous heartbeat (a "latency" of a whole
        interval and "Can't keep up" warnings that real Discord never causes)."""

        async def ack() -> None:
            await asyncio.sleep(self.heartbeat_ack_delay_s)
            if not ws.closed and not (session is not None and session.stalled):
                await send_frame(
                    ws, compressor, {"op": HEARTBEAT_ACK, "s": None, "t": None, "d": None}
                )

        task = asyncio.get_running_loop().create_task(ack())
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    def ready_shards(self) -> list[int]:
        """Shard ids with a live, identified connection."""
        return sorted(s for s, sess in self.by_shard.items() if sess.live)

    async def dispatch_guild(
        self, guild: FakeGuild, event: str, data: Any, *, intent: int = 0
    ) -> None:
        """Send ``event`` to the shard owning ``guild`` (only if it asked for ``intent``, if given)."""
        for session in list(self.by_shard.values()):
            if session.owns(guild) and (not intent or session.intents & intent):
                await session.dispatch(event, data)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Error while decoding payload.")
            return ws
        compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        await send_frame(
            ws,
            compressor,
            {
                "op": HELLO,
                "s": None,
                "t": None,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
            },
        )
        session: GatewaySession | None = None
        silence = SESSION_TIMEOUT_HEARTBEATS * self.heartbeat_interval_ms / 1000
        while True:
            try:
                message = await ws.receive(timeout=silence)
            except TimeoutError:
                await ws.close(code=4009, message=b"Session timed out.")
                break
            if message.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING}:
                break
            if message.type in {aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR}:
                break
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
                op, data = frame["op"], frame.get("d")
            except (ValueError, KeyError, TypeError):
                await ws.close(code=4002, message=b"Error while decoding payload.")
                break
            if op == HEARTBEAT:
                self.heartbeats += 1
                self._ack_later(ws, compressor, session)
            elif op == IDENTIFY:
                session = await self._identify(ws, compressor, data, session)
            elif op == RESUME:
                session = await self._resume(ws, compressor, data)
            elif session is None:
                await ws.close(code=4003, message=b"Not authenticated.")
                break
            elif op == VOICE_STATE:
                await self._record(op, data)
                await self._voice_state(session, data)
            elif op == REQUEST_MEMBERS:
                await self._record(op, data)
                await self._members(session, data)
            elif op == PRESENCE:
                await self._record(op, data)
            else:
                await ws.close(code=4001, message=b"Unknown opcode.")
                break
        return ws

    async def _record(self, op: int, data: Any) -> None:
        body = dict(data) if isinstance(data, dict) else {"d": data}
        body.pop("token", None)
        await self.world.recorder.add("gateway", f"op{op}", "/gateway", body)

    async def _identify(
        self, ws: web.WebSocketResponse, compressor: Any, data: Any, old: GatewaySession | None
    ) -> GatewaySession | None:
        if old is not None:
            await ws.close(code=4005, message=b"Already authenticated.")
            return old
        if not self.world.bot_token_ok(f"Bot {data.get('token', '')}"):
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, shard_count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        await self._record(IDENTIFY, data)
        self.identify_count += 1
        session = GatewaySession(shard_id, shard_count, int(data.get("intents") or 0))
        session.ws, session.compressor = ws, compressor
        self._note_overlap(shard_id, session, "identify")
        self.sessions[session.session_id] = session
        self.by_shard[shard_id] = session
        guilds = [g for g in self.world.guilds.values() if session.owns(g)]
        await session.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.session_id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url(),
                "shard": [shard_id, shard_count],
                "application": {"id": str(self.world.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": ["rotterdam", "frankfurt", "us-east"],
                "user_settings": {},
            },
        )
        for guild in guilds:
            await session.dispatch(
                "GUILD_CREATE", guild.payload(application_id=self.world.application_id)
            )
        await self.world.recorder.notify()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, compressor: Any, data: Any
    ) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        token_ok = self.world.bot_token_ok(f"Bot {data.get('token', '')}")
        if session is None or not token_ok:
            await send_frame(
                ws, compressor, {"op": INVALID_SESSION, "s": None, "t": None, "d": False}
            )
            return None
        await self._record(RESUME, data)
        if session.ws is not None and session.ws is not ws and not session.ws.closed:
            await session.ws.close(code=4000, message=b"Session resumed elsewhere.")
        self._note_overlap(session.shard_id, session, "resume")
        session.ws, session.compressor = ws, compressor
        session.stalled = False
        self.by_shard[session.shard_id] = session
        seq = int(data.get("seq") or 0)
        for frame in session.backlog:
            if frame["s"] > seq:
                await session.send(frame)
        session.resumed_count += 1
        await session.dispatch("RESUMED", {})
        await self.world.recorder.notify()
        return session

    async def _voice_state(self, session: GatewaySession, data: Any) -> None:
        guild = self.world.guild(int(data["guild_id"]))
        if guild is None:
            return
        bot = self.world.bot_user.id
        channel_id = data.get("channel_id")
        old = guild.voice_states.get(bot)
        state = FakeVoiceState(
            user_id=bot,
            channel_id=None if channel_id is None else ChannelId(int(channel_id)),
            session_id=old.session_id if old else secrets.token_hex(16),
            self_mute=bool(data.get("self_mute")),
            self_deaf=bool(data.get("self_deaf")),
        )
        if state.channel_id is None:
            guild.voice_states.pop(bot, None)
        else:
            guild.voice_states[bot] = state
        await session.dispatch("VOICE_STATE_UPDATE", self.voice_state_event(guild, state))
        if state.channel_id is not None:
            await session.dispatch(
                "VOICE_SERVER_UPDATE",
                {
                    "token": secrets.token_hex(8),
                    "guild_id": str(guild.id),
                    "endpoint": self.voice_endpoint(),
                },
            )
        await self.world.recorder.notify()

    def voice_state_event(self, guild: FakeGuild, state: FakeVoiceState) -> Json:
        payload = state.payload() | {"guild_id": str(guild.id)}
        member = guild.members.get(state.user_id)
        if member is not None:
            payload["member"] = member.payload()
        return payload

    async def _members(self, session: GatewaySession, data: Any) -> None:
        guild = self.world.guild(int(data["guild_id"]))
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            m.payload()
            for m in guild.members.values()
            if (m.user.id in wanted) or (not wanted and m.user.username.lower().startswith(query))
        ]
        limit = int(data.get("limit") or 0)
        chunk: Json = {
            "guild_id": str(guild.id),
            "members": members[:limit] if limit else members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def reconnect(self, shard_id: int) -> None:
        """Send op 7 RECONNECT: the client should reconnect and RESUME."""
        await self.by_shard[shard_id].send({"op": RECONNECT, "s": None, "t": None, "d": None})

    async def invalidate(self, shard_id: int, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable session is forgotten."""
        session = self.by_shard[shard_id]
        if not resumable:
            self.sessions.pop(session.session_id, None)
        await session.send({"op": INVALID_SESSION, "s": None, "t": None, "d": resumable})

    async def drop(self, shard_id: int, code: int = 4000) -> None:
        """Close a shard's socket like a network blip (resumable close code by default)."""
        ws = self.by_shard[shard_id].ws
        if ws is not None:
            await ws.close(code=code, message=b"Unknown error.")

    async def close_all(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001, message=b"Going away.")
