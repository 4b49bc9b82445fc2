"""The fake node's REST API (``/version``, ``/v4/...``, ``/metrics``), as Lavalink v4 answers it."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from vectobeat_core.errors import InvalidTrack
from vectobeat_testkit.lavalink.catalogue import track_json
from vectobeat_testkit.lavalink.engine import Engine, RecordedRequest
from vectobeat_testkit.lavalink.lyrics import (
    FALLBACK_SOURCE,
    LYRICS_PLUGIN,
    lyrics_json,
    no_lyrics,
)
from vectobeat_testkit.lavalink.protocol import (
    LavalinkHTTPError,
    error_body,
    info_json,
    metrics_text,
)
from vectobeat_testkit.lavalink.session import Session
from vectobeat_testkit.lavalink.update import apply_update, long_value

__all__ = ["ENGINE", "OPTIONS", "NodeOptions", "middlewares", "routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class NodeOptions:
    """Per-node switches the handlers read."""

    def __init__(
        self,
        *,
        password: str,
        metrics: bool,
        require_client_name: bool,
        lyrics_plugin: bool = False,
    ) -> None:
        self.password = password
        self.metrics = metrics
        self.require_client_name = require_client_name
        self.lyrics_plugin = lyrics_plugin


ENGINE = web.AppKey("engine", Engine)
OPTIONS = web.AppKey("options", NodeOptions)


# -- middlewares -----------------------------------------------------------------------------


@web.middleware
async def _faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    engine = request.app[ENGINE]
    faults = engine.faults
    await faults.delay()
    if request.path == "/v4/websocket":  # open for the session's life: not a request in flight
        return await _answer(request, handler)
    if engine.profile.busy_delay_s and engine.busy():
        await asyncio.sleep(engine.profile.busy_delay_s)  # the slow-replies profile
    return await _answer(request, handler)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[ENGINE].faults
    if faults.garbage and request.path != "/version":
        return web.Response(text="<html>not json", content_type="application/json")
    return await handler(request)


@web.middleware
async def _profile(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A JSON answer (errors too) as the node's profile writes it (`ServerProfile.rest_answer`)."""
    response = await handler(request)
    profile = request.app[ENGINE].profile
    if (
        profile.sloppy
        and isinstance(response, web.Response)
        and response.content_type == "application/json"
        and isinstance(response.body, bytes)
    ):
        body = json.loads(response.body)
        response.body = json.dumps(profile.rest_answer(request.path, body)).encode()
    return response


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LavalinkHTTPError as exc:
        return web.json_response(error_body(request, exc.status, exc.message), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(error_body(request, exc.status, exc.reason), status=exc.status)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    options = request.app[OPTIONS]
    if request.path in {"/metrics", "/v4/websocket"}:
        return await handler(request)
    authorization = request.headers.get("Authorization")
    if authorization is None:
        raise LavalinkHTTPError(401, "Unauthorized")
    if not hmac.compare_digest(authorization.encode(), options.password.encode()):
        raise LavalinkHTTPError(403, "Forbidden")
    return await handler(request)


@web.middleware
async def _record(request: web.Request, handler: Handler) -> web.StreamResponse:
    body: Any = None
    if request.can_read_body:
        text = await request.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
    request.app[ENGINE].requests.append(
        RecordedRequest(request.method, request.path, dict(request.query), body)
    )
    return await handler(request)


middlewares = [_faults, _profile, _errors, _record, _auth]


# -- parsing helpers -------------------------------------------------------------------------


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise LavalinkHTTPError(400, "Malformed JSON request body") from None


def _guild(request: web.Request) -> int:
    raw = request.match_info["guild_id"]
    if not raw.isdigit():
        raise LavalinkHTTPError(400, f"Invalid guild id '{raw}'")
    return int(raw)


def _session(request: web.Request) -> Session:
    session = request.app[ENGINE].live_session(request.match_info["session_id"])
    if session is None:
        raise LavalinkHTTPError(404, "Session not found")
    return session


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").strip().lower() in {"true", "1", "yes", "on"}


# -- handlers --------------------------------------------------------------------------------


async def version(request: web.Request) -> web.Response:
    return web.Response(text=request.app[ENGINE].version, content_type="text/plain")


async def info(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    plugins = list(engine.catalogue.plugins)
    if request.app[OPTIONS].lyrics_plugin:
        plugins.append(LYRICS_PLUGIN)
    return web.json_response(
        info_json(engine.version, engine.started_ms, engine.catalogue.source_managers, plugins)
    )


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[ENGINE].stats(websocket=False))


async def metrics(request: web.Request) -> web.Response:
    if not request.app[OPTIONS].metrics:
        raise LavalinkHTTPError(404, "Not Found")
    text = metrics_text(request.app[ENGINE].stats(websocket=False))
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def load_tracks(request: web.Request) -> web.Response:
    identifier = request.query.get("identifier")
    if identifier is None:
        raise LavalinkHTTPError(400, "Required parameter 'identifier' is not present.")
    engine = request.app[ENGINE]
    return web.json_response(_shown(engine, engine.catalogue.load(identifier)))


def _shown(engine: Engine, value: Any) -> Any:
    """A loadtracks answer with every track's ``info`` as the node's profile reports it."""
    if isinstance(value, list):
        return [_shown(engine, item) for item in value]
    if isinstance(value, dict):
        if "encoded" in value and isinstance(value.get("info"), dict):
            return {**value, "info": engine.profile.track_info(value["info"])}
        return {key: _shown(engine, item) for key, item in value.items()}
    return value


def _decoded(engine: Engine, encoded: str) -> dict[str, Any]:
    try:
        track = engine.catalogue.decode(encoded)
    except InvalidTrack as exc:
        raise LavalinkHTTPError(400, f"Failed to decode track: {exc}") from None
    return track_json(track, encoded=encoded, position=track.position)


async def decode_track(request: web.Request) -> web.Response:
    encoded = request.query.get("encodedTrack")
    if encoded is None:
        raise LavalinkHTTPError(400, "Required parameter 'encodedTrack' is not present.")
    return web.json_response(_decoded(request.app[ENGINE], encoded))


async def decode_tracks(request: web.Request) -> web.Response:
    body = await _json(request)
    if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
        raise LavalinkHTTPError(400, "Request body must be a list of encoded tracks")
    engine = request.app[ENGINE]
    return web.json_response([_decoded(engine, item) for item in body])


async def patch_session(request: web.Request) -> web.Response:
    if request.app[ENGINE].profile.no_resume:
        raise LavalinkHTTPError(404, "Not Found")
    session = _session(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise LavalinkHTTPError(400, "Request body must be an object")
    if "resuming" in body:
        if not isinstance(body["resuming"], bool):
            raise LavalinkHTTPError(400, "Invalid value for 'resuming'")
        session.resuming = body["resuming"]
    if "timeout" in body:
        timeout = long_value(body["timeout"], "timeout")
        if timeout < 0:
            raise LavalinkHTTPError(400, "Timeout must be 0 or greater")
        session.timeout = timeout
    request.app[ENGINE].notify()
    return web.json_response(session.describe())


async def get_players(request: web.Request) -> web.Response:
    session = _session(request)
    return web.json_response([player.to_json() for player in session.players.values()])


async def get_player(request: web.Request) -> web.Response:
    session = _session(request)
    player = session.players.get(_guild(request))
    if player is None:
        raise LavalinkHTTPError(404, "Player not found")
    return web.json_response(player.to_json())


async def delete_player(request: web.Request) -> web.Response:
    session = _session(request)
    request.app[ENGINE].destroy_player(session, _guild(request))
    return web.Response(status=204)


async def patch_player(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    session = _session(request)
    guild_id = _guild(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise LavalinkHTTPError(400, "Request body must be an object")
    player = apply_update(
        engine,
        session,
        guild_id,
        body,
        no_replace=_flag(request, "noReplace"),
        require_channel_id=_needs_channel_id(engine.version),
    )
    return web.json_response(player.to_json())


def _needs_channel_id(version: str) -> bool:
    """Lavalink 4.2.0 (DAVE) made ``voice.channelId`` required."""
    parts = [int(p) if p.isdigit() else 0 for p in version.split("-", maxsplit=1)[0].split(".")] + [
        0,
        0,
    ]
    return (parts[0], parts[1]) >= (4, 2)


def _lyrics_answer(request: web.Request, encoded: str) -> web.Response:
    """The lyrics of ``encoded`` (200), or 204 when there are none (LavaLyrics' answers)."""
    engine = request.app[ENGINE]
    try:
        track = engine.catalogue.decode(encoded)
    except InvalidTrack as exc:
        raise LavalinkHTTPError(400, f"Failed to decode track: {exc}") from None
    found = engine.catalogue.lyrics.get(track.identifier)
    if found is None:
        return no_lyrics()
    source = FALLBACK_SOURCE if _flag(request, "skipTrackSource") else track.source
    return web.json_response(lyrics_json(found, source))


def _require_lyrics_plugin(request: web.Request) -> None:
    if not request.app[OPTIONS].lyrics_plugin:
        raise LavalinkHTTPError(404, "Not Found")  # a stock Lavalink has no such route


async def player_lyrics(request: web.Request) -> web.Response:
    _require_lyrics_plugin(request)
    session = _session(request)
    player = session.players.get(_guild(request))
    if player is None or player.track is None:
        raise LavalinkHTTPError(404, "Not Found: no track is playing")
    return _lyrics_answer(request, str(player.track.json["encoded"]))


async def track_lyrics(request: web.Request) -> web.Response:
    _require_lyrics_plugin(request)
    encoded = request.query.get("track")
    if encoded is None:
        raise LavalinkHTTPError(400, "Required parameter 'track' is not present.")
    return _lyrics_answer(request, encoded)


routes = [
    web.get("/version", version),
    web.get("/v4/info", info),
    web.get("/v4/stats", stats),
    web.get("/metrics", metrics),
    web.get("/v4/loadtracks", load_tracks),
    web.get("/v4/decodetrack", decode_track),
    web.post("/v4/decodetracks", decode_tracks),
    web.patch("/v4/sessions/{session_id}", patch_session),
    web.get("/v4/sessions/{session_id}/players", get_players),
    web.get("/v4/sessions/{session_id}/players/{guild_id}", get_player),
    web.patch("/v4/sessions/{session_id}/players/{guild_id}", patch_player),
    web.delete("/v4/sessions/{session_id}/players/{guild_id}", delete_player),
    web.get("/v4/sessions/{session_id}/players/{guild_id}/track/lyrics", player_lyrics),
    web.get("/v4/lyrics", track_lyrics),
]
