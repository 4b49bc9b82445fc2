"""``PATCH /v4/sessions/{id}/players/{guildId}``: validate the update, then apply it in
Lavalink's order (voice, pause, userData, volume, seek, endTime, filters, then the track).
Filters outside Lavalink's ranges are refused with a 400 in its error shape, as Lavalink does.
"""

from __future__ import annotations

from typing import Any

from vectobeat_core.errors import InvalidTrack
from vectobeat_core.filters import filter_problems
from vectobeat_testkit.lavalink.catalogue import track_json
from vectobeat_testkit.lavalink.engine import Engine
from vectobeat_testkit.lavalink.player import PlayerState, PlayingTrack
from vectobeat_testkit.lavalink.protocol import LavalinkHTTPError
from vectobeat_testkit.lavalink.session import Session

__all__ = ["apply_update", "long_value"]

_MISSING: Any = object()


def long_value(value: Any, field: str) -> int:
    """A JSON long; like Jackson, numeric strings are accepted (pomice sends ``"0"``)."""
    if isinstance(value, bool):
        raise LavalinkHTTPError(400, f"Invalid value for '{field}'")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise LavalinkHTTPError(400, f"Invalid value for '{field}'")


def _playing(engine: Engine, encoded: str, user_data: dict[str, Any]) -> PlayingTrack:
    try:
        track = engine.catalogue.decode(encoded)
    except InvalidTrack as exc:
        raise LavalinkHTTPError(400, f"Failed to decode track: {exc}") from None
    data = track_json(track, encoded=encoded, user_data=user_data)
    return PlayingTrack(json=data, length=track.length, is_stream=track.is_stream)


def _load_one(engine: Engine, identifier: Any) -> str:
    if not isinstance(identifier, str):
        raise LavalinkHTTPError(400, "Invalid value for 'identifier'")
    result = engine.catalogue.load(identifier)
    kind = result["loadType"]
    if kind == "track":
        encoded: str = result["data"]["encoded"]
        return encoded
    if kind in {"playlist", "search"}:
        raise LavalinkHTTPError(400, "Cannot play a playlist or search result")
    if kind == "empty":
        raise LavalinkHTTPError(400, "No matches found for identifier")
    raise LavalinkHTTPError(500, str(result["data"]["message"]))


def _track_fields(body: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(encoded, identifier, userData)`` from ``track`` or the deprecated top-level fields."""
    legacy = "encodedTrack" in body or "identifier" in body
    if "track" in body and legacy:
        raise LavalinkHTTPError(400, "Cannot specify both track and encodedTrack/identifier")
    if "track" in body:
        track = body["track"]
        if not isinstance(track, dict):
            raise LavalinkHTTPError(400, "Invalid value for 'track'")
        fields = (
            track.get("encoded", _MISSING),
            track.get("identifier", _MISSING),
            track.get("userData", _MISSING),
        )
    else:
        fields = (body.get("encodedTrack", _MISSING), body.get("identifier", _MISSING), _MISSING)
    if fields[0] is not _MISSING and fields[1] is not _MISSING:
        raise LavalinkHTTPError(400, "Cannot specify both encodedTrack and identifier")
    if fields[2] is not _MISSING and not isinstance(fields[2], dict):
        raise LavalinkHTTPError(400, "Invalid value for 'userData'")
    return fields


def _voice(value: Any, *, require_channel_id: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LavalinkHTTPError(400, "Invalid value for 'voice'")
    keys = ("token", "endpoint", "sessionId") + (("channelId",) if require_channel_id else ())
    if any(not isinstance(value.get(key), str) or not value[key] for key in keys):
        shown = {k: ("***" if k == "token" else v) for k, v in value.items()}
        raise LavalinkHTTPError(400, f"Partial Lavalink voice state: {shown}")
    voice = {key: value[key] for key in ("token", "endpoint", "sessionId")}
    channel_id = value.get("channelId")
    voice["channelId"] = channel_id if isinstance(channel_id, str) and channel_id else None
    return voice


def apply_update(
    engine: Engine,
    session: Session,
    guild_id: int,
    body: dict[str, Any],
    *,
    no_replace: bool,
    require_channel_id: bool,
) -> PlayerState:
    """Validate ``body`` fully, then apply it; return the (possibly new) player."""
    encoded, identifier, user_data = _track_fields(body)
    starting = encoded is not _MISSING or identifier is not _MISSING
    filters = body.get("filters", _MISSING)
    if filters is not _MISSING and not isinstance(filters, dict):
        raise LavalinkHTTPError(400, "Invalid value for 'filters'")
    problems = [] if filters is _MISSING else filter_problems(filters)
    if problems:
        raise LavalinkHTTPError(400, f"Invalid filters: {problems[0]}")
    voice = body.get("voice")
    voice_state = None if voice is None else _voice(voice, require_channel_id=require_channel_id)
    end_time = body.get("endTime", _MISSING)
    if end_time is not _MISSING and end_time is not None:
        end_time = long_value(end_time, "endTime")
        if end_time <= 0:
            raise LavalinkHTTPError(400, "End time must be greater than 0")
    volume = body.get("volume", _MISSING)
    if volume is not _MISSING:
        volume = long_value(volume, "volume")
        if not 0 <= volume <= 1000:
            raise LavalinkHTTPError(400, "Volume must be between 0 and 1000")
    position = body.get("position", _MISSING)
    if position is not _MISSING:
        position = long_value(position, "position")
        if position < 0:
            raise LavalinkHTTPError(400, "Position must be 0 or greater")
    paused = body.get("paused", _MISSING)
    if paused is not _MISSING and not isinstance(paused, bool):
        raise LavalinkHTTPError(400, "Invalid value for 'paused'")
    if guild_id not in session.players and engine.faults.refuse_new_players:
        raise LavalinkHTTPError(503, "This node accepts no new players")
    data = {} if user_data is _MISSING else dict(user_data)
    playing: PlayingTrack | None = None
    if encoded not in (_MISSING, None):
        if not isinstance(encoded, str):
            raise LavalinkHTTPError(400, "Invalid value for 'encoded'")
        playing = _playing(engine, encoded, data)
    elif identifier is not _MISSING:
        playing = _playing(engine, _load_one(engine, identifier), data)

    player = engine.player(session, guild_id)
    if voice_state is not None:
        player.voice = voice_state
    if paused is not _MISSING and not starting:
        player.set_paused(paused)
        engine.reschedule(session, player)
    if user_data is not _MISSING and not starting and player.track is not None:
        player.track.json["userData"] = data
    if volume is not _MISSING:
        player.volume = volume
    if position is not _MISSING and not starting and player.track is not None:
        player.rebase(position)
        engine.reschedule(session, player)
        engine.send_player_update(session, player)
    if end_time is not _MISSING and not starting and player.track is not None:
        player.end_time = end_time
        engine.reschedule(session, player)
    if filters is not _MISSING:
        player.rebase()  # the position so far advanced at the old timescale
        player.filters = dict(filters)
        engine.reschedule(session, player)
        engine.send_player_update(session, player)
    if starting and not (no_replace and player.track is not None):
        if playing is None:
            engine.stop(session, player, "stopped")
        else:
            engine.play(
                session,
                player,
                playing,
                position=0 if position is _MISSING else position,
                end_time=None if end_time is _MISSING else end_time,
                paused=False if paused is _MISSING else paused,
            )
    engine.notify()
    return player
